// The PouchDB peer fieldnotes-bench runs side by side with the hub: PouchDB 9 (LevelDB on
// disk) behind express-pouchdb 4.2.0 in its minimumForPouchDB mode (the routes a PouchDB
// client syncs through, with gzip responses), on a loopback port.
//
//   node server.js DATA_DIR
//
// It prints one line of JSON, {"url": "http://127.0.0.1:PORT"}, once it listens, and exits
// when its standard input closes (so it never outlives the harness that started it).
'use strict';

const path = require('path');
const fs = require('fs');
const express = require('express');
const PouchDB = require('pouchdb');
const expressPouchDB = require('express-pouchdb');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node server.js DATA_DIR');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });

const DB = PouchDB.defaults({ prefix: path.resolve(dir) + path.sep });
const app = express();
app.use('/', expressPouchDB(DB, {
  mode: 'minimumForPouchDB',
  configPath: path.join(dir, 'config.json'),
  logPath: path.join(dir, 'log.txt'),
}));

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port }) + '\n');
});
server.keepAliveTimeout = 60000;

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
