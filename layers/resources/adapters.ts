import type { AdapterRegistry } from '../engine/session.js';
import { createLdapAdapter } from './ldap/adapter.js';
import { createMysqlAdapter } from './mysql/adapter.js';
import { createPostgresqlAdapter } from './postgresql/adapter.js';
import { createUnixAdapter } from './unix/adapter.js';
import { UNIX_TYPES } from './unix/schema.js';
import { createWindowsAdapter } from './windows/adapter.js';
import { createWindowsDomainAdapter } from './windows-domain/adapter.js';

/**
 * Every adapter, for processes that serve all types (the CLI, the agent). A Lambda
 * function imports only its own type's adapter. A type missing here is configured
 * but refused at reset time as "not supported yet".
 */
export const ALL_ADAPTERS: AdapterRegistry = {
  ...Object.fromEntries(UNIX_TYPES.map((t) => [t, createUnixAdapter])),
  postgresql: createPostgresqlAdapter,
  mysql: createMysqlAdapter,
  ldap: createLdapAdapter,
  windows: createWindowsAdapter,
  'windows-domain': createWindowsDomainAdapter,
};
