import { createResetHandler } from '../layers/workflow/handler.js';
import { createDeviceAdapter } from '../layers/resources/network-device/adapter.js';
import { ciscoIosDriver } from '../layers/resources/cisco/cisco-ios-driver.js';

/** Network devices and service processors over SSH or Telnet: one function, the device adapter and its vendors' drivers only. */
export const adapters = {
  'cisco-ios': createDeviceAdapter(ciscoIosDriver),
};
export const handler = createResetHandler({ adapters });
