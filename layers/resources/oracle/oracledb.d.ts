// node-oracledb ships no types; the adapter types what it calls itself (adapter.ts OracleDriver).
declare module 'oracledb' {
  const oracledb: unknown;
  export default oracledb;
}
