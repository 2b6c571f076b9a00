import { createResetHandler } from '../layers/workflow/handler.js';
import { createDeviceAdapter } from '../layers/resources/network-device/adapter.js';
import { procurveDriver } from '../layers/resources/hp-procurve/driver.js';
import { screenosDriver } from '../layers/resources/juniper-netscreen/driver.js';

/** Network devices and service processors over SSH or Telnet: one function, the device adapter and its drivers. */
export const adapters = {
  'hp-procurve': createDeviceAdapter(procurveDriver),
  'juniper-netscreen': createDeviceAdapter(screenosDriver),
};
export const handler = createResetHandler({ adapters });
