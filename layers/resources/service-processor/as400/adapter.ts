import { createDeviceAdapter } from '../../network-device/adapter.js';
import { as400Driver } from '../as400-driver.js';

/**
 * The IBM i adapter: the device adapter over its driver (as400-driver.ts). One object, which
 * functions/reset-device.ts and the registry's lazy loader both return; named adapter.ts so the
 * runtime layer's build leaves the loader's import (and with it the SSH code) out.
 */
export const createAs400Adapter = createDeviceAdapter(as400Driver);
