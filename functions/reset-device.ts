import { createResetHandler } from '../layers/workflow/handler.js';
import { createIosAdapter } from '../layers/resources/cisco/ios/adapter.js';
import { createCatosAdapter } from '../layers/resources/cisco/catos/adapter.js';
import { createPixAdapter } from '../layers/resources/cisco/pix/adapter.js';
import { createProcurveAdapter } from '../layers/resources/hp-procurve/adapter.js';
import { createScreenosAdapter } from '../layers/resources/juniper-netscreen/adapter.js';
import { createIloAdapter } from '../layers/resources/hp-ilo/adapter.js';
import { createIlomAdapter } from '../layers/resources/service-processor/ilom/adapter.js';
import { createAlomAdapter } from '../layers/resources/service-processor/alom/adapter.js';
import { createXscfAdapter } from '../layers/resources/service-processor/xscf/adapter.js';
import { createAs400Adapter } from '../layers/resources/service-processor/as400/adapter.js';

/**
 * Network devices and service processors over SSH or Telnet: one function, the device adapter
 * (layers/resources/network-device/adapter.ts) over each type's driver, and nothing else.
 */
export const adapters = {
  'cisco-ios': createIosAdapter,
  'cisco-catos': createCatosAdapter,
  'cisco-pix': createPixAdapter,
  'hp-procurve': createProcurveAdapter,
  'juniper-netscreen': createScreenosAdapter,
  'hp-ilo': createIloAdapter,
  ilom: createIlomAdapter,
  alom: createAlomAdapter,
  xscf: createXscfAdapter,
  as400: createAs400Adapter,
};
export const handler = createResetHandler({ adapters });
