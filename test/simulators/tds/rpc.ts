/**
 * RPC requests per [MS-TDS] 2.2.6.6: ALL_HEADERS, the procedure by name (US_VARCHAR) or, after
 * 0xFFFF, by its well-known ProcID (10 is Sp_ExecuteSql), OptionFlags, then each parameter as
 * ParamMetaData (B_VARCHAR name, status flags, TYPE_INFO per 2.2.5.6) and its value: INTN and BITN
 * with a byte of length; NVARCHAR, NCHAR, BIGVARCHAR and BIGCHAR with a USHORT maximum length and a
 * collation, the value a USHORT length (0xFFFF for NULL) or, with a maximum of 0xFFFF
 * (nvarchar(max)), PLP chunks (2.2.5.2.3).
 */
import { Reader, skipAllHeaders } from './packets.js';
import { INT, type Value } from './tsql-values.js';

/** [MS-TDS] 2.2.6.6 ProcIDs of the special stored procedures. */
const PROC_IDS: Readonly<Record<number, string>> = {
  1: 'sp_cursor', 2: 'sp_cursoropen', 3: 'sp_cursorprepare', 4: 'sp_cursorexecute', 5: 'sp_cursorprepexec', 6: 'sp_cursorunprepare',
  7: 'sp_cursorfetch', 8: 'sp_cursoroption', 9: 'sp_cursorclose', 10: 'sp_executesql', 11: 'sp_prepare', 12: 'sp_execute',
  13: 'sp_prepexec', 14: 'sp_prepexecrpc', 15: 'sp_unprepare',
};

export interface RpcParameter {
  /** Lower case, with its @; undefined for a positional parameter. */
  readonly name?: string;
  readonly value: Value;
}

export interface RpcRequest {
  readonly proc: string;
  readonly parameters: readonly RpcParameter[];
}

const Type = { INTN: 0x26, BITN: 0x68, BIGVARCHAR: 0xa7, BIGCHAR: 0xaf, NVARCHAR: 0xe7, NCHAR: 0xef } as const;
const PLP_NULL = 0xffffffffffffffffn;

function plp(r: Reader): Buffer | null {
  const total = r.u64();
  if (total === PLP_NULL) return null;
  const chunks: Buffer[] = [];
  for (;;) {
    const n = r.u32();
    if (n === 0) break;
    chunks.push(r.bytes(n));
  }
  return Buffer.concat(chunks);
}

function value(r: Reader): Value {
  const type = r.u8();
  switch (type) {
    case Type.INTN: {
      const max = r.u8();
      const n = r.u8();
      if (n === 0) return { type: INT, value: null };
      if (n > max || ![1, 2, 4, 8].includes(n)) throw new Error(`INTN value of ${n} bytes`);
      const b = r.bytes(n);
      const v = n === 1 ? b.readUInt8() : n === 2 ? b.readInt16LE() : n === 4 ? b.readInt32LE() : Number(b.readBigInt64LE());
      return { type: INT, value: v };
    }
    case Type.BITN: {
      r.u8();
      const n = r.u8();
      return { type: INT, value: n === 0 ? null : r.bytes(n)[0]! ? 1 : 0 };
    }
    case Type.NVARCHAR:
    case Type.NCHAR:
    case Type.BIGVARCHAR:
    case Type.BIGCHAR: {
      const max = r.u16();
      r.bytes(5); // collation
      const unicode = type === Type.NVARCHAR || type === Type.NCHAR;
      let bytes: Buffer | null;
      if (max === 0xffff) bytes = plp(r);
      else {
        const n = r.u16();
        bytes = n === 0xffff ? null : r.bytes(n);
      }
      const length = max === 0xffff ? 'max' : unicode ? max / 2 : max;
      return { type: { kind: unicode ? 'nvarchar' : 'varchar', length }, value: bytes === null ? null : bytes.toString(unicode ? 'utf16le' : 'latin1') };
    }
    default:
      throw new Error(`the simulator does not read RPC parameters of TDS type 0x${type.toString(16)}`);
  }
}

export function parseRpc(data: Buffer): RpcRequest {
  const r = new Reader(data, skipAllHeaders(data));
  const nameLength = r.u16();
  let proc: string;
  if (nameLength === 0xffff) {
    const id = r.u16();
    proc = PROC_IDS[id] ?? `ProcID ${id}`;
  } else proc = r.chars(nameLength);
  r.u16(); // OptionFlags
  const parameters: RpcParameter[] = [];
  while (!r.atEnd && r.data[r.offset] !== 0x80 && r.data[r.offset] !== 0xff) {
    const name = r.bVarchar();
    r.u8(); // StatusFlags: by-reference (OUTPUT) and default values make no difference here
    parameters.push({ ...(name ? { name: name.toLowerCase() } : {}), value: value(r) });
  }
  return { proc, parameters };
}
