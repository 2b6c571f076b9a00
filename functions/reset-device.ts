import { createResetHandler } from '../layers/workflow/handler.js';
import { createDeviceAdapter } from '../layers/resources/network-device/adapter.js';
import { procurveDriver } from '../layers/resources/hp-procurve/driver.js';
import { screenosDriver } from '../layers/resources/juniper-netscreen/driver.js';
import { as400Driver } from '../layers/resources/service-processor/as400-driver.js';

/** Network devices and service processors over SSH or Telnet: one function, the device adapter and its vendors' drivers only. */
export const adapters = {
  'hp-procurve': createDeviceAdapter(procurveDriver),
  'juniper-netscreen': createDeviceAdapter(screenosDriver),
  as400: createDeviceAdapter(as400Driver),
};
export const handler = createResetHandler({ adapters });
