import { createDeviceAdapter } from '../../network-device/adapter.js';
import { ciscoIosDriver } from '../cisco-ios-driver.js';

/**
 * The IOS adapter: the device adapter over the IOS driver (cisco-ios-driver.ts). One object,
 * which functions/reset-device.ts and the registry's lazy loader both return; named adapter.ts so
 * the runtime layer's build leaves the loader's import (and with it the SSH code) out.
 */
export const createIosAdapter = createDeviceAdapter(ciscoIosDriver);
