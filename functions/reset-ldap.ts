import { createResetHandler } from '../layers/workflow/handler.js';
import { createLdapAdapter } from '../layers/resources/ldap/adapter.js';

export const adapters = { ldap: createLdapAdapter };
export const handler = createResetHandler({ adapters });
