import { z } from 'zod';
import { accountStatusSchema } from '../../shared/models';

/**
 * What `tokentray doctor --json` prints. Nothing here may hold a token or a client secret:
 * item names, counts, modes, paths, public client ids and endpoint URLs only.
 */

/** One thing that keeps Tokentray from working, with the exit code it gives `doctor`. */
export const doctorProblemSchema = z.object({
  /** 5 store cannot give out secrets, 4 shared store unreachable, 3 reconnect needed, 1 anything else. */
  exitCode: z.union([z.literal(1), z.literal(3), z.literal(4), z.literal(5)]),
  where: z.string(),
  message: z.string(),
});
export type DoctorProblem = z.infer<typeof doctorProblemSchema>;

export const keychainStateSchema = z.enum(['ok', 'locked', 'absent', 'no-answer', 'error']);
export type KeychainState = z.infer<typeof keychainStateSchema>;

export const doctorReportSchema = z.object({
  ok: z.boolean(),
  exitCode: z.number().int(),
  versions: z.object({ tokentray: z.string(), node: z.string(), electron: z.string().nullable() }),
  store: z.object({
    kind: z.enum(['local', 'file', 'postgres']),
    /** The file store's folder, or the connection string without its password; null for the keychain. */
    where: z.string().nullable(),
    /** Where the file store's key (or the shared store's team key file) comes from. */
    key: z.object({ path: z.string(), from: z.string() }).nullable(),
    answers: z.boolean(),
    accounts: z.number().int().nullable(),
    schemaVersion: z.number().int().nullable(),
    detail: z.string().nullable(),
  }),
  keychain: z.object({
    service: z.string(),
    state: keychainStateSchema,
    /** False when the store in use does not depend on it (the file store). */
    needed: z.boolean(),
    detail: z.string().nullable(),
  }),
  directories: z.array(
    z.object({
      role: z.string(),
      path: z.string(),
      exists: z.boolean(),
      /** Octal, e.g. "700"; null when missing or on Windows. */
      mode: z.string().nullable(),
      ownedByYou: z.boolean().nullable(),
      problem: z.string().nullable(),
    }),
  ),
  providers: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      kind: z.enum(['builtin', 'generic', 'demo']),
      configured: z.boolean(),
      clientId: z.string().nullable(),
      hasClientSecret: z.boolean(),
      endpoints: z
        .object({
          authorizeUrl: z.string(),
          tokenUrl: z.string(),
          apiUrl: z.string(),
          revokeUrl: z.string().nullable(),
          issuer: z.string().nullable(),
        })
        .nullable(),
      redirectUri: z.string().nullable(),
      problem: z.string().nullable(),
    }),
  ),
  accounts: z.array(
    z.object({
      id: z.string(),
      label: z.string(),
      provider: z.string(),
      status: accountStatusSchema,
      statusDetail: z.string().nullable(),
      expiresAt: z.string().nullable(),
      hasRefreshToken: z.boolean(),
      /** True when the secret is in the store in use; null when the store could not be listed. */
      secretStored: z.boolean().nullable(),
      refreshable: z.boolean(),
      /** Why a refresh is not possible now, when it is not; null when it is, or when the token needs none. */
      refreshProblem: z.string().nullable(),
    }),
  ),
  problems: z.array(doctorProblemSchema),
});
export type DoctorReport = z.infer<typeof doctorReportSchema>;
