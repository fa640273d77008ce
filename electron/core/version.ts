/** Tokentray's version, as package.json says (test/unit/doctor-report.test.ts holds them equal). */
export const TOKENTRAY_VERSION = '0.1.0';
