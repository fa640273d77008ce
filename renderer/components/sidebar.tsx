import type { ReactNode } from 'react';
import { useApp, type Route } from '../state/app-context';
import { KeyIcon, ListIcon, LogoMark, PlusIcon, SettingsIcon } from './icons';
import './status-badge.css';
import './sidebar.css';

function NavItem({
  active,
  icon,
  label,
  count,
  onSelect,
  testId,
}: {
  active: boolean;
  icon: ReactNode;
  label: string;
  count?: number;
  onSelect(): void;
  testId: string;
}) {
  return (
    <li>
      <button
        type="button"
        className="nav-item"
        aria-current={active ? 'page' : undefined}
        onClick={onSelect}
        data-testid={testId}
      >
        <span className="nav-item__icon">{icon}</span>
        <span className="nav-item__label">{label}</span>
        {count !== undefined && count > 0 ? <span className="nav-item__count">{count}</span> : null}
      </button>
    </li>
  );
}

const SECTION: Record<Route['name'], Route['name']> = {
  accounts: 'accounts',
  inspect: 'accounts',
  connect: 'connect',
  tasks: 'tasks',
  settings: 'settings',
};

export function Sidebar() {
  const { i18n, route, navigate, accounts } = useApp();
  const section = SECTION[route.name];
  const attention = (accounts ?? []).filter((a) => a.status === 'reconnect' || a.status === 'error').length;
  return (
    <aside className="sidebar">
      <div className="sidebar__brand">
        <LogoMark />
        <span className="sidebar__name">Tokentray</span>
      </div>
      <nav aria-label={i18n.t('nav.label')}>
        <ul className="nav">
          <NavItem
            testId="nav-accounts"
            active={section === 'accounts'}
            icon={<KeyIcon />}
            label={i18n.t('nav.accounts')}
            count={accounts?.length}
            onSelect={() => navigate({ name: 'accounts' })}
          />
          <NavItem
            testId="nav-tasks"
            active={section === 'tasks'}
            icon={<ListIcon />}
            label={i18n.t('nav.tasks')}
            onSelect={() => navigate({ name: 'tasks', accountId: null })}
          />
          <NavItem
            testId="nav-connect"
            active={section === 'connect'}
            icon={<PlusIcon />}
            label={i18n.t('nav.connect')}
            onSelect={() => navigate({ name: 'connect' })}
          />
        </ul>
      </nav>
      <div className="sidebar__spacer" />
      {attention > 0 ? (
        <button type="button" className="sidebar__alert" onClick={() => navigate({ name: 'accounts' })}>
          <span className="badge__dot" data-tone="reconnect" aria-hidden="true" />
          {i18n.tn('nav.attention', attention)}
        </button>
      ) : null}
      <ul className="nav">
        <NavItem
          testId="nav-settings"
          active={section === 'settings'}
          icon={<SettingsIcon />}
          label={i18n.t('nav.settings')}
          onSelect={() => navigate({ name: 'settings' })}
        />
      </ul>
    </aside>
  );
}
