// Where the test provider keeps its grants, codes, sessions and tokens.
//
// oidc-provider's own memory adapter is an LRU of 1,000 entries: past that, the refresh tokens
// of accounts not used lately vanish and refreshing them fails with invalid_grant, which a real
// provider (with a database) does not do, and which a benchmark refreshing 1,000 accounts
// meets. This store keeps every entry until it expires.

const entries = new Map(); // "Model:id" -> { payload, expiresAt (ms) }
const grantMembers = new Map(); // grantId -> Set of "Model:id"
const sessionIds = new Map(); // session uid -> session id
const deviceCodes = new Map(); // user code -> device code id

function live(key) {
  const entry = entries.get(key);
  if (entry === undefined) return undefined;
  if (entry.expiresAt <= Date.now()) {
    entries.delete(key);
    return undefined;
  }
  return entry.payload;
}

// Expired entries go once a minute, so a long run does not grow without bound.
setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
  for (const [grantId, members] of grantMembers) {
    for (const key of members) if (!entries.has(key)) members.delete(key);
    if (members.size === 0) grantMembers.delete(grantId);
  }
}, 60_000).unref();

export default class Store {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    entries.set(key, { payload, expiresAt });
    if (payload.grantId) {
      let members = grantMembers.get(payload.grantId);
      if (members === undefined) grantMembers.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
    if (this.model === 'Session' && payload.uid) sessionIds.set(payload.uid, id);
    if (payload.userCode) deviceCodes.set(payload.userCode, id);
  }

  async find(id) {
    return live(this.key(id));
  }

  async findByUid(uid) {
    const id = sessionIds.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = deviceCodes.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = live(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    entries.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantMembers.get(grantId) ?? []) entries.delete(key);
    grantMembers.delete(grantId);
  }
}
