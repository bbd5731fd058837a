#!/usr/bin/env node
/**
 * The flowcast command: serve, decode, replay, check-config.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { tuneHeapGrowth } from '../common/heap.js';
import { createLogger, resolveFormat, serviceOutput } from '../common/logger.js';
import { ConfigError, ENVIRONMENT, loadConfig } from './config.js';
import { decodeFiles } from './decode.js';
import { evalCommand } from './eval.js';
import { registerEvalDetect } from './eval-detect.js';
import { forecastOnce } from './forecast.js';
import { parseTarget, replay } from './replay.js';
import { buildService } from './serve.js';

// `flowcast decode ... | head` closes stdout early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

/** The package version, read from package.json beside the sources (cli/) or the build (dist/cli/). */
function version(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'flowcast' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next place
    }
  }
  return 'unknown';
}

const program = new Command();
program
  .name('flowcast')
  .version(version(), '-V, --version', 'print the version and exit')
  .description('NetFlow v5/v9 and IPFIX collector: decode, roll up, store, forecast')
  .showHelpAfterError()
  .addHelpText(
    'after',
    `\nEnvironment (overrides the config file):\n${ENVIRONMENT.map((v) => `  ${v.name.padEnd(26)} ${v.path.join('.')}`).join('\n')}`,
  );

function configOrExit(file: string | undefined) {
  try {
    return loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`flowcast: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

program
  .command('serve')
  .description('run the collector, the HTTP API and the scheduled jobs')
  .option('-c, --config <file>', 'configuration file (YAML or JSON)')
  .action(async (opts: { config?: string }) => {
    const config = configOrExit(opts.config);
    tuneHeapGrowth();
    const format = resolveFormat(config.log.format);
    // JSON to a pipe or a file never blocks the service; a terminal is written as before.
    const output = format === 'json' ? serviceOutput() : undefined;
    const log = createLogger(config.log.level, format, output?.stream);
    const service = buildService(config, log, output);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      await service.stop();
      log.info('stopped');
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
    // The last resort: every timer and handler of the service is guarded where it is set up; an
    // error that still escapes is logged and counted (internal_errors_total{component="process"})
    // and survived. A collector that exits loses its open rollup interval and, while an exporter
    // keeps sending what crashed it, everything after.
    process.on('uncaughtException', (err) => service.internalErrors.report('process', err));
    process.on('unhandledRejection', (err) => service.internalErrors.report('process', err));
    try {
      await service.start();
    } catch (err) {
      log.fatal({ err }, 'start-up failed');
      await service.stop();
      process.exit(1);
    }
  });

program
  .command('decode')
  .description('decode pcap/pcapng captures or raw datagram files and print records as JSON lines')
  .argument('<files...>', 'captures (.pcap, .pcapng) or raw datagrams (.bin)')
  .option('--json', 'print JSON lines (the only format; accepted for compatibility)')
  .option('--exporter <addr>', 'exporter address for raw datagram files', '127.0.0.1')
  .option('-c, --config <file>', 'configuration file (for enterprise elements)')
  .action((files: string[], opts: { exporter: string; config?: string }) => {
    const config = configOrExit(opts.config);
    const summary = decodeFiles(
      files,
      { exporter: opts.exporter, enterprise: config.collector.enterpriseElements },
      (line) => process.stdout.write(`${line}\n`),
      (line) => process.stderr.write(`flowcast decode: ${line}\n`),
    );
    process.stderr.write(
      `flowcast decode: ${summary.datagrams} datagrams, ${summary.records} records, ${summary.errors} malformed\n`,
    );
    // Malformed datagrams are the input's, not an error of the command; a file it could not use is.
    if (summary.unusable > 0) process.exitCode = 1;
  });

function positiveNumber(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
}

program
  .command('replay')
  .description("send a capture's UDP payloads to a collector")
  .argument('<file>', 'pcap or pcapng capture')
  .requiredOption('--to <host:port>', 'collector address, e.g. 127.0.0.1:2055 or [::1]:4739')
  .option('--rate <pps>', 'datagrams per second (0: as fast as possible)', positiveNumber, 1000)
  .option('--loop <n>', 'times to send the capture', positiveNumber, 1)
  .action(async (file: string, opts: { to: string; rate: number; loop: number }) => {
    const target = parseTarget(opts.to);
    if (target === undefined) return program.error(`--to: expected HOST:PORT, got "${opts.to}"`);
    try {
      await replay(file, { ...target, rate: opts.rate, loop: Math.max(1, Math.floor(opts.loop)) }, (s) =>
        process.stderr.write(s),
      );
    } catch (err) {
      program.error(`flowcast replay: ${(err as Error).message}`);
    }
  });

program
  .command('check-config')
  .description('validate the configuration and print the effective settings')
  .option('-c, --config <file>', 'configuration file (YAML or JSON)')
  .action((opts: { config?: string }) => {
    const config = configOrExit(opts.config);
    const shown = structuredClone(config);
    for (const secret of ['token', 'password'] as const) {
      if (shown.storage.influx[secret] !== undefined) shown.storage.influx[secret] = '***';
    }
    if (shown.http.apiToken !== undefined) shown.http.apiToken = '***';
    for (const h of [shown.detection.alertmanager?.headers, shown.detection.webhook?.headers])
      for (const name of Object.keys(h ?? {})) h![name] = '***';
    process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  });

program
  .command('forecast')
  .description(
    'run every analytics job (forecast, capacity, anomaly) once against the store and print a summary',
  )
  .option('-c, --config <file>', 'configuration file (YAML or JSON)')
  .action(async (opts: { config?: string }) => {
    const config = configOrExit(opts.config);
    const log = createLogger(config.log.level, config.log.format);
    const ok = await forecastOnce(config, log, (line) => process.stdout.write(`${line}\n`));
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('eval')
  .description('evaluate forecasts, series anomalies (NAB scoring) and congestion risk on CSV series')
  .requiredOption(
    '--data <dir>',
    'directory of CSV series or NAB layout (repeatable)',
    (v: string, acc: string[]) => [...acc, v],
    [] as string[],
  )
  .option('--json', 'print the result as one JSON object')
  .option('--goals <file>', 'exit 1 when a goal in this JSON file is missed (analytics/eval/goals.json)')
  .action(async (opts: { data: string[]; json?: boolean; goals?: string }) => {
    try {
      process.exitCode = (await evalCommand(opts.data, opts.json === true, opts.goals)) ? 0 : 1;
    } catch (err) {
      program.error(`flowcast eval: ${(err as Error).message}`);
    }
  });

// `flowcast eval --detect` (cli/eval-detect.ts); after every other command, so it can extend `eval`.
registerEvalDetect(program);

await program.parseAsync();
