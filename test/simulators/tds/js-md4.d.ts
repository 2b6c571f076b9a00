// js-md4 (tedious's MD4 for NTLM, since OpenSSL 3 keeps MD4 in its legacy provider) ships no types.
declare module 'js-md4' {
  const md4: { arrayBuffer(message: string | ArrayBuffer | Uint8Array): ArrayBuffer };
  export default md4;
}
