// The `lorasc` process (bin/lorasc.mjs runs this file): main() and the exit code. Whatever escapes — an
// unhandled rejection or stream error from a library — still ends as one line and a non-zero exit, never a
// stack trace or a process that stays up (LORASC_DEBUG=1 prints the stack).
import { main } from './main';

const last = (e: unknown) => {
  if (process.env.LORASC_DEBUG) console.error(e);
  console.error(`lorasc: error: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  process.exit(1);
};
process.on('uncaughtException', last);
process.on('unhandledRejection', last);

main(process.argv.slice(2)).then((code) => process.exit(code), last);
