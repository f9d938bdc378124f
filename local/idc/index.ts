/** Local IAM Identity Center + Organizations: emulator, its services and shared state, fixture, knobs and a minimal awsJson server. */
export * from './emulator.ts';
export * from './state.ts';
export * from './sso-admin.ts';
export * from './identity-store.ts';
export * from './organizations.ts';
export * from './organization-policies.ts';
export * from './role-sessions.ts';
export * from './access-portal.ts';
export * from './fixture.ts';
export * from './knobs.ts';
export * from './server.ts';
export * from './persist.ts';
