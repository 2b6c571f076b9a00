import { createDeviceAdapter } from '../network-device/adapter.js';
import { procurveDriver } from './driver.js';

/**
 * The ProCurve adapter: the device adapter over its driver (driver.ts). One object, which
 * functions/reset-device.ts and the registry's lazy loader both return; named adapter.ts so the
 * runtime layer's build leaves the loader's import (and with it the SSH code) out.
 */
export const createProcurveAdapter = createDeviceAdapter(procurveDriver);
