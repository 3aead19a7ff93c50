// A scriptable SMSC for the SMPP provider's tests and benchmark, built on node-smpp.
//
// Started by the test fixtures on loopback: `node server.js` listens for SMPP and for a
// small HTTP control API on free ports and prints them as one JSON line on stdout:
//   {"smpp": 40123, "control": 40124}
// Control API (JSON in, JSON out):
//   POST /config   merge settings into the scenario (see DEFAULTS)
//   POST /reset    back to DEFAULTS, forget what was seen
//   GET  /state    binds, submits, enquire_links, unbinds, sessions
//   GET  /summary  counts only (the benchmark's 100,000 submits)
//   POST /drop     cut every connection now
//   POST /release  send the receipts held so far (`receipts: "hold"`) on the bound sessions
//   POST /mo       deliver MOs (one, or a storm: `{"storm": [{"from": ..., "text": ...}]}`)
//   GET  /mo_acks  the MOs (and receipt ids) answered with deliver_sm_resp status 0, and
//                  how many MOs and receipts still wait for an answer
// An MO left unanswered when its session closes is delivered again at the next bind, as
// real SMSCs do; one answered with an error status is delivered again after `mo_retry_ms`.
'use strict';

const http = require('http');
const smpp = require('smpp');

// Raw bytes of submit_sm's short_message: the tests check UDH, packing and UCS-2 exactly.
smpp.commands.submit_sm.params.short_message.filter = undefined;
// Vendor TLVs some SMSCs attach to every receipt.
smpp.addTLV('vendor_operator', { id: 0x1401, type: smpp.types.tlv.cstring });
smpp.addTLV('vendor_price', { id: 0x1502, type: smpp.types.tlv.int32 });

const DEFAULTS = {
  system_id: 'textopt',
  password: 'secret',
  bind_status: 0, // force this status on every bind (e.g. 0x08 system error)
  id_start: 1, // first message id (0 tests the id "0")
  id_format: 'dec', // dec | hex | uuid | prefixed
  reject: {}, // destination prefix -> command_status
  throttle_first: 0, // the first N submit_sm answered with throttle_status
  throttle_status: 0x58, // ESME_RTHROTTLED; 0x14 is ESME_RMSGQFUL
  resp_delay_ms: 0, // delay of every submit_sm_resp
  silent: false, // never answer submit_sm (timeouts)
  drop_after: 0, // cut the connection when submit_sm number N arrives, unanswered
  garbage: null, // "unknown_command" (answered by generic_nack) or "bad_length" (fatal)
  garbage_after: 0, // send the garbage after submit_sm number N (0: at bind)
  receipts: 'after', // after | before (deliver_sm before submit_sm_resp) | hold | none
  receipt_delay_ms: 0,
  receipt_form: 'text', // text | tlv | both
  receipt_stat: {}, // destination prefix -> stat word (DELIVRD by default)
  part_stat: {}, // part number (1-based) -> stat word, for multipart messages
  vendor_tlvs: false,
  mo_retry_ms: 200, // an MO answered with an error status goes again after this long
  release_interval_ms: 0, // spacing of the receipts sent by POST /release
  record: true, // keep every submit_sm (false for the benchmark: counts only)
};

const MESSAGE_STATE = {
  ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8,
};

let config = { ...DEFAULTS };
let state;
let nextId;
let held;
let moWaiting;

function resetState() {
  state = {
    binds: [], submits: [], enquire_links: 0, unbinds: 0, generic_nacks: 0,
    submit_count: 0, accepted: 0, destinations: new Map(),
    mo_next: 1, mo_acked: [], mo_refused: 0, receipts_acked: [],
  };
  moWaiting = new Map(); // MO number -> { options, session } delivered, not yet answered
  nextId = config.id_start;
  held = [];
}
resetState();

function formatId(n) {
  switch (config.id_format) {
    case 'hex': return n.toString(16).toUpperCase().padStart(8, '0');
    case 'uuid': return `${n.toString(16).padStart(8, '0')}-7c1e-4d2a-9f00-${String(n).padStart(12, '0')}`;
    case 'prefixed': return `msg-${n}`;
    default: return String(n);
  }
}

function byPrefix(table, destination) {
  for (const prefix of Object.keys(table)) {
    if (destination.startsWith(prefix)) return table[prefix];
  }
  return undefined;
}

function stamp(date) {
  const p = (v) => String(v).padStart(2, '0');
  return `${p(date.getUTCFullYear() % 100)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}`
    + `${p(date.getUTCHours())}${p(date.getUTCMinutes())}`;
}

function tlvValue(pdu, name) {
  const value = pdu[name];
  return value === undefined ? null : value;
}

function describePart(pdu) {
  const raw = Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
  let udh = null;
  let body = raw;
  if (pdu.esm_class & 0x40 && raw.length) {
    udh = raw.subarray(0, raw[0] + 1);
    body = raw.subarray(raw[0] + 1);
  }
  let part = null;
  if (udh && udh.length >= 6 && udh[1] === 0x00) part = { ref: udh[3], total: udh[4], seq: udh[5] };
  if (udh && udh.length >= 7 && udh[1] === 0x08) {
    part = { ref: udh.readUInt16BE(3), total: udh[5], seq: udh[6] };
  }
  if (tlvValue(pdu, 'sar_msg_ref_num') !== null) {
    part = {
      ref: pdu.sar_msg_ref_num, total: pdu.sar_total_segments, seq: pdu.sar_segment_seqnum,
    };
  }
  return { udh, body, part };
}

function receiptPdu(id, destination, source, stat) {
  const now = new Date();
  const err = stat === 'DELIVRD' ? '000' : '001';
  const options = {
    source_addr: destination,
    destination_addr: source || '',
    esm_class: 0x04,
  };
  if (config.receipt_form !== 'tlv') {
    options.short_message = `id:${id} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} `
      + `submit date:${stamp(now)} done date:${stamp(now)} stat:${stat} err:${err} text:`;
  }
  if (config.receipt_form !== 'text') {
    options.receipted_message_id = id;
    options.message_state = MESSAGE_STATE[stat] || MESSAGE_STATE.UNKNOWN;
    if (stat !== 'DELIVRD') options.network_error_code = Buffer.from([0x03, 0x00, 0x01]);
  }
  if (config.vendor_tlvs) {
    options.vendor_operator = 'ORANGE-FR';
    options.vendor_price = 42;
  }
  return options;
}

function receiverFor(session) {
  if (session && session.bound && session.bound !== 'transmitter' && !session.destroyed) {
    return session;
  }
  return server.sessions.find(
    (s) => s.bound && s.bound !== 'transmitter' && !s.destroyed && s.system_id === config.system_id,
  );
}

function sendReceipt(session, receipt) {
  const target = receiverFor(session);
  if (!target) {
    held.push(receipt);
    return;
  }
  // tracked like an MO: answered ones are listed, unanswered ones go again at the next bind
  const number = state.mo_next;
  state.mo_next += 1;
  const match = /id:(\S+)/.exec(receipt.short_message || '');
  const id = receipt.receipted_message_id || (match && match[1]) || '';
  deliverMo(number, receipt, id, target);
}

function moOptions(mo) {
  const options = {
    source_addr: mo.from === undefined ? '' : mo.from,
    destination_addr: mo.to || '36111',
    esm_class: 0,
    data_coding: mo.ucs2 ? 8 : (mo.data_coding || 0),
  };
  if (mo.hex !== undefined) options.short_message = Buffer.from(mo.hex, 'hex');
  else options.short_message = mo.ucs2 ? { message: mo.text } : mo.text;
  if (mo.source_addr_ton !== undefined) options.source_addr_ton = mo.source_addr_ton;
  return options;
}

function deliverMo(number, options, receiptId, session) {
  const target = session || receiverFor(null);
  if (!target) return false; // delivered at the next bind
  moWaiting.set(number, { options, session: target, receiptId });
  target.deliver_sm(options, (resp) => {
    if (!moWaiting.has(number)) return;
    if (resp.command_status === 0) {
      moWaiting.delete(number);
      if (receiptId === undefined) state.mo_acked.push({ n: number, from: options.source_addr });
      else state.receipts_acked.push(receiptId);
    } else {
      state.mo_refused += 1;
      moWaiting.get(number).session = null;
      setTimeout(() => redeliverMo(number), config.mo_retry_ms);
    }
  });
  return true;
}

function redeliverMo(number) {
  const entry = moWaiting.get(number);
  if (entry && !(entry.session && !entry.session.destroyed)) {
    deliverMo(number, entry.options, entry.receiptId);
  }
}

function redeliverAll() {
  for (const [number, entry] of moWaiting) {
    if (!entry.session || entry.session.destroyed) {
      deliverMo(number, entry.options, entry.receiptId);
    }
  }
}

function handleSubmit(session, pdu) {
  state.submit_count += 1;
  const number = state.submit_count;
  if (config.drop_after && number === config.drop_after) {
    session.destroyed = true;
    session.socket.destroy();
    return;
  }
  if (config.garbage && config.garbage_after && number === config.garbage_after) {
    sendGarbage(session);
  }
  if (config.silent) return;
  const destination = pdu.destination_addr;
  let status = byPrefix(config.reject, destination) || 0;
  if (!status && number <= config.throttle_first) status = config.throttle_status;
  const id = status ? '' : formatId(nextId++);
  const { udh, body, part } = describePart(pdu);
  if (config.record) {
    state.submits.push({
      session: session.label, seq: pdu.sequence_number, to: destination, from: pdu.source_addr,
      source_ton: pdu.source_addr_ton, source_npi: pdu.source_addr_npi,
      dest_ton: pdu.dest_addr_ton, dest_npi: pdu.dest_addr_npi,
      data_coding: pdu.data_coding, esm_class: pdu.esm_class,
      registered_delivery: pdu.registered_delivery,
      udh: udh ? udh.toString('hex') : null, body: body.toString('hex'), part,
      id, status, at: Date.now(),
    });
  }
  if (!status) {
    state.accepted += 1;
    if (!part || part.seq === 1) {
      state.destinations.set(destination, (state.destinations.get(destination) || 0) + 1);
    }
  }
  const respond = () => {
    if (!session.destroyed) session.send(pdu.response({ command_status: status, message_id: id }));
  };
  let stat = byPrefix(config.receipt_stat, destination) || 'DELIVRD';
  if (part && config.part_stat[String(part.seq)]) stat = config.part_stat[String(part.seq)];
  const receipt = status ? null : receiptPdu(id, destination, pdu.source_addr, stat);
  if (receipt && config.receipts === 'before') {
    sendReceipt(session, receipt);
    setTimeout(respond, Math.max(config.resp_delay_ms, 5));
    return;
  }
  if (config.resp_delay_ms) setTimeout(respond, config.resp_delay_ms);
  else respond();
  if (!receipt || config.receipts === 'none') return;
  if (config.receipts === 'hold') {
    held.push(receipt);
  } else if (config.receipt_delay_ms) {
    setTimeout(() => sendReceipt(session, receipt), config.receipt_delay_ms);
  } else {
    setImmediate(() => sendReceipt(session, receipt));
  }
}

function sendGarbage(session) {
  if (config.garbage === 'unknown_command') {
    const buffer = Buffer.alloc(20);
    buffer.writeUInt32BE(20, 0);
    buffer.writeUInt32BE(0x000000AA, 4);
    buffer.writeUInt32BE(0, 8);
    buffer.writeUInt32BE(777, 12);
    buffer.writeUInt32BE(0xDEADBEEF, 16);
    session.socket.write(buffer);
  } else if (config.garbage === 'bad_length') {
    session.socket.write(Buffer.from([0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF]));
  }
}

let sessionCount = 0;
const server = smpp.createServer((session) => {
  sessionCount += 1;
  session.label = `s${sessionCount}`;
  session.on('error', () => {}); // a client that goes away is normal here
  session.on('close', () => {
    session.destroyed = true;
    for (const entry of moWaiting.values()) if (entry.session === session) entry.session = null;
  });
  const onBind = (kind) => (pdu) => {
    let status = config.bind_status;
    if (!status && pdu.system_id !== config.system_id) status = smpp.ESME_RINVSYSID;
    if (!status && pdu.password !== config.password) status = smpp.ESME_RINVPASWD;
    state.binds.push({
      session: session.label, kind, system_id: pdu.system_id,
      system_type: pdu.system_type, status,
    });
    session.send(pdu.response({ command_status: status, system_id: 'TESTSMSC' }));
    if (status) {
      setTimeout(() => session.close(), 20);
      return;
    }
    session.bound = kind;
    session.system_id = pdu.system_id;
    if (kind !== 'transmitter') setTimeout(redeliverAll, 10); // unanswered MOs go again
    if (config.garbage && !config.garbage_after) sendGarbage(session);
  };
  session.on('bind_transceiver', onBind('transceiver'));
  session.on('bind_transmitter', onBind('transmitter'));
  session.on('bind_receiver', onBind('receiver'));
  session.on('submit_sm', (pdu) => handleSubmit(session, pdu));
  session.on('enquire_link', (pdu) => {
    state.enquire_links += 1;
    session.send(pdu.response());
  });
  session.on('generic_nack', () => { state.generic_nacks += 1; });
  session.on('unbind', (pdu) => {
    state.unbinds += 1;
    session.bound = null;
    session.send(pdu.response());
    setTimeout(() => session.close(), 10);
  });
  session.on('unknown', (pdu) => session.send(pdu.response()));
});

function reply(res, code, body) {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(text);
}

function snapshot() {
  return {
    binds: state.binds,
    submits: state.submits,
    enquire_links: state.enquire_links,
    unbinds: state.unbinds,
    generic_nacks: state.generic_nacks,
    sessions: server.sessions.filter((s) => s.bound && !s.destroyed).map((s) => s.bound),
    held: held.length,
  };
}

function summary() {
  let duplicates = 0;
  for (const count of state.destinations.values()) duplicates += count - 1;
  return {
    submit_count: state.submit_count,
    accepted: state.accepted,
    distinct_destinations: state.destinations.size,
    duplicates,
  };
}

const control = http.createServer((req, res) => {
  let data = '';
  req.on('data', (chunk) => { data += chunk; });
  req.on('end', () => {
    try {
      if (req.method === 'POST' && req.url === '/config') {
        config = { ...config, ...JSON.parse(data || '{}') };
        if ('id_start' in JSON.parse(data || '{}')) nextId = config.id_start;
        return reply(res, 200, config);
      }
      if (req.method === 'POST' && req.url === '/reset') {
        config = { ...DEFAULTS };
        resetState();
        return reply(res, 200, config);
      }
      if (req.method === 'GET' && req.url === '/state') return reply(res, 200, snapshot());
      if (req.method === 'GET' && req.url === '/summary') return reply(res, 200, summary());
      if (req.method === 'POST' && req.url === '/drop') {
        for (const s of server.sessions.slice()) {
          s.destroyed = true;
          s.socket.destroy();
        }
        return reply(res, 200, { dropped: true });
      }
      if (req.method === 'POST' && req.url === '/mo') {
        // messages people send to the ESME: plain deliver_sm (esm_class 0)
        const body = JSON.parse(data || '{}');
        const storm = body.storm || [body];
        if (!receiverFor(null)) return reply(res, 409, { error: 'no receiver bound' });
        const numbers = [];
        const gap = body.interval_ms || 0;
        storm.forEach((mo, index) => {
          const number = state.mo_next;
          state.mo_next += 1;
          numbers.push(number);
          moWaiting.set(number, { options: moOptions(mo), session: null });
          const send = () => redeliverMo(number); // unless a new bind sent it already
          if (gap) setTimeout(send, gap * index);
          else send();
        });
        return reply(res, 200, { sent: true, numbers });
      }
      if (req.method === 'GET' && req.url === '/mo_acks') {
        return reply(res, 200, {
          acked: state.mo_acked, waiting: moWaiting.size, refused: state.mo_refused,
          receipts: state.receipts_acked,
        });
      }
      if (req.method === 'POST' && req.url === '/release') {
        const pending = held;
        held = [];
        pending.forEach((receipt, index) => {
          if (config.release_interval_ms) {
            setTimeout(() => sendReceipt(null, receipt), config.release_interval_ms * index);
          } else {
            sendReceipt(null, receipt);
          }
        });
        return reply(res, 200, { released: pending.length, held: held.length });
      }
      return reply(res, 404, { error: `no route ${req.method} ${req.url}` });
    } catch (error) {
      return reply(res, 400, { error: String(error) });
    }
  });
});

server.listen(Number(process.env.SMSC_PORT || 0), '127.0.0.1', () => {
  control.listen(Number(process.env.SMSC_CONTROL_PORT || 0), '127.0.0.1', () => {
    process.stdout.write(
      `${JSON.stringify({ smpp: server.address().port, control: control.address().port })}\n`,
    );
  });
});

// The fixture closes our stdin when the test session ends: stop then, never linger.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
