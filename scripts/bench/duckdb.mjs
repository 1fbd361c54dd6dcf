// DuckDB's side of scripts/bench, run with node:
//
//   node scripts/bench/duckdb.mjs gen ROWS OUT.parquet
//     writes ROWS rows of two ~80-character strings a and b (b is a with
//     20 characters upper-cased in two rows of three, an unrelated
//     string in the third) as Parquet;
//   node scripts/bench/duckdb.mjs levenshtein IN.parquet OUT.parquet
//     COPY (SELECT levenshtein(a, b) AS d FROM read_parquet(IN)) TO OUT.
//
// @duckdb/node-api is the one testapps/duckdb installs (npm ci --prefix
// testapps/duckdb): it is resolved from testapps/duckdb/package.json, so
// this folder needs no package.json or node_modules of its own.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'testapps', 'duckdb', 'package.json'));
const { DuckDBInstance } = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href);

const quote = (s) => "'" + String(s).replaceAll("'", "''") + "'";

const [mode, arg1, arg2] = process.argv.slice(2);
let sql;
if (mode === 'gen') {
  const rows = Number.parseInt(arg1, 10);
  if (!(rows > 0)) throw new Error(`gen: bad row count ${arg1}`);
  // 32 + 32 + 16 hex characters: 80.
  sql = `COPY (
    SELECT a,
      CASE WHEN i % 3 = 0
        THEN md5('b' || i::VARCHAR) || md5('c' || i::VARCHAR) || substr(md5('d' || i::VARCHAR), 1, 16)
        ELSE substr(a, 1, 30) || upper(substr(a, 31, 20)) || substr(a, 51)
      END AS b
    FROM (
      SELECT i, md5(i::VARCHAR) || md5((i * 7919)::VARCHAR) || substr(md5((i * 104729)::VARCHAR), 1, 16) AS a
      FROM range(${rows}) t(i)
    )
  ) TO ${quote(arg2)} (FORMAT parquet)`;
} else if (mode === 'levenshtein') {
  sql = `COPY (SELECT levenshtein(a, b) AS d FROM read_parquet(${quote(arg1)})) TO ${quote(arg2)} (FORMAT parquet)`;
} else {
  throw new Error(`usage: node duckdb.mjs gen ROWS OUT | levenshtein IN OUT (got ${JSON.stringify(mode)})`);
}

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const reader = await con.runAndReadAll(sql);
process.stdout.write(JSON.stringify({ mode, rows: reader.getRowObjectsJson() }) + '\n');
