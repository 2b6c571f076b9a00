import { createResetHandler } from '../layers/workflow/handler.js';
import { createDeviceAdapter } from '../layers/resources/network-device/adapter.js';
import { hpIloDriver } from '../layers/resources/hp-ilo/driver.js';
import { ilomDriver } from '../layers/resources/service-processor/ilom-driver.js';

/** Network devices and service processors over SSH or Telnet: one function, the device adapter and its drivers only. */
export const adapters = {
  'hp-ilo': createDeviceAdapter(hpIloDriver),
  ilom: createDeviceAdapter(ilomDriver),
};
export const handler = createResetHandler({ adapters });
