/** A minimal valid resource of each of the ten device and service-processor types. */
export const DEVICE_BASES: Record<string, Record<string, unknown>> = {
  'cisco-ios': { id: 'd1', type: 'cisco-ios', host: 'd1.example.com', loginAccount: 'd1/admin' },
  'cisco-catos': { id: 'd1', type: 'cisco-catos', host: 'd1.example.com', loginAccount: 'd1/admin' },
  'cisco-pix': { id: 'd1', type: 'cisco-pix', host: 'd1.example.com', loginAccount: 'd1/admin' },
  'juniper-netscreen': { id: 'd1', type: 'juniper-netscreen', host: 'd1.example.com', adminAccount: 'd1/netscreen' },
  'hp-procurve': { id: 'd1', type: 'hp-procurve', host: 'd1.example.com', managerAccount: 'd1/manager' },
  'hp-ilo': { id: 'd1', type: 'hp-ilo', host: 'd1.example.com' },
  as400: { id: 'd1', type: 'as400', host: 'd1.example.com' },
  alom: { id: 'd1', type: 'alom', host: 'd1.example.com' },
  ilom: { id: 'd1', type: 'ilom', host: 'd1.example.com' },
  xscf: { id: 'd1', type: 'xscf', host: 'd1.example.com' },
};

export const DEVICE_TYPES = Object.keys(DEVICE_BASES);

/** The types with a save step (`copyToStartup`) and with a configuration mode. */
export const SAVES = ['cisco-ios', 'cisco-pix', 'juniper-netscreen', 'hp-procurve'];
export const CONFIGURATION_MODE = ['cisco-ios', 'cisco-pix', 'hp-procurve'];
