import { suite, is } from '../../harness.js';
import { crc32c } from '../../../shared/checksum.js';

const t = suite('checksum: crc32c');
const bytes = (f: (i: number) => number, n = 32) => Uint8Array.from({ length: n }, (_, i) => f(i));

t('standard check value: "123456789" -> 0xE3069283', () => {
  is(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
});

t('empty input is 0', () => {
  is(crc32c(new Uint8Array(0)), 0);
});

// RFC 3720 appendix B.4 "CRC Examples". The RFC lists each CRC as the bytes
// sent on the wire, least significant first ("aa 36 91 8a" is 0x8A9136AA).
t('RFC 3720 §B.4: 32 bytes of zeros, of ones, incrementing, decrementing', () => {
  is(crc32c(bytes(() => 0x00)), 0x8a9136aa);
  is(crc32c(bytes(() => 0xff)), 0x62a8ab43);
  is(crc32c(bytes((i) => i)), 0x46dd794e);
  is(crc32c(bytes((i) => 31 - i)), 0x113fdb5c);
});

t('RFC 3720 §B.4: iSCSI SCSI Read (10) command PDU', () => {
  const pdu = Uint8Array.from([
    0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
    0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  ]);
  is(crc32c(pdu), 0xd9963a56);
});

t('continuing over chunks equals one pass, at every split point', () => {
  const data = bytes((i) => (i * 37 + 11) & 0xff, 100);
  const whole = crc32c(data);
  for (let cut = 0; cut <= data.length; cut++) {
    is(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut))), whole, `cut ${cut}`);
  }
});

t('is not the IEEE CRC-32 (zlib) of the same input', () => {
  // zlib crc32("123456789") = 0xCBF43926.
  is(crc32c(new TextEncoder().encode('123456789')) === 0xcbf43926, false);
});

t.run();
