// Child of the import-cost case: a program whose entry module (this file) imports the given
// packages, in order, and prints how many milliseconds that took. Node has set up its module
// loader for this file by then, as it has for any program before the program imports a library,
// so that one-time cost is in neither side's number.
const t = performance.now();
for (const specifier of process.argv.slice(2)) await import(specifier);
process.stdout.write(String(performance.now() - t));
