import { createDeviceAdapter } from '../../network-device/adapter.js';
import { pixDriver } from '../pix-driver.js';

/**
 * The PIX adapter: the device adapter over the PIX driver (pix-driver.ts). One object,
 * which functions/reset-device.ts and the registry's lazy loader both return; named adapter.ts so
 * the runtime layer's build leaves the loader's import (and with it the SSH code) out.
 */
export const createPixAdapter = createDeviceAdapter(pixDriver);
