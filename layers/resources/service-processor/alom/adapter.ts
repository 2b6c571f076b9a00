import { createDeviceAdapter } from '../../network-device/adapter.js';
import { alomDriver } from '../alom-driver.js';

/**
 * The ALOM adapter: the device adapter over its driver (alom-driver.ts). One object, which
 * functions/reset-device.ts and the registry's lazy loader both return; named adapter.ts so the
 * runtime layer's build leaves the loader's import (and with it the SSH code) out.
 */
export const createAlomAdapter = createDeviceAdapter(alomDriver);
