import { createDeviceAdapter } from '../../network-device/adapter.js';
import { catosDriver } from '../catos-driver.js';

/**
 * The CatOS adapter: the device adapter over the CatOS driver (catos-driver.ts). One object,
 * which functions/reset-device.ts and the registry's lazy loader both return; named adapter.ts so
 * the runtime layer's build leaves the loader's import (and with it the SSH code) out.
 */
export const createCatosAdapter = createDeviceAdapter(catosDriver);
