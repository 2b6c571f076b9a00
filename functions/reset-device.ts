import { createResetHandler } from '../layers/workflow/handler.js';
import { createDeviceAdapter } from '../layers/resources/network-device/adapter.js';
import { alomDriver } from '../layers/resources/service-processor/alom-driver.js';
import { xscfDriver } from '../layers/resources/service-processor/xscf-driver.js';

/** Network devices and service processors over SSH or Telnet: one function, the device adapter and its drivers. */
export const adapters = {
  alom: createDeviceAdapter(alomDriver),
  xscf: createDeviceAdapter(xscfDriver),
};
export const handler = createResetHandler({ adapters });
