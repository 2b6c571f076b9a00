import { createResetHandler } from '../layers/workflow/handler.js';
import { createCatosAdapter } from '../layers/resources/cisco/catos/adapter.js';
import { createPixAdapter } from '../layers/resources/cisco/pix/adapter.js';

/** Network devices and service processors over SSH or Telnet: one function, the device adapter and its drivers only. */
export const adapters = {
  'cisco-catos': createCatosAdapter,
  'cisco-pix': createPixAdapter,
};
export const handler = createResetHandler({ adapters });
