import { createResetHandler } from '../layers/workflow/handler.js';
import { createAlomAdapter } from '../layers/resources/service-processor/alom-driver.js';
import { createXscfAdapter } from '../layers/resources/service-processor/xscf-driver.js';

/** Network devices and service processors over SSH or Telnet: one function, the device adapter and its drivers. */
export const adapters = {
  alom: createAlomAdapter,
  xscf: createXscfAdapter,
};
export const handler = createResetHandler({ adapters });
