#!/usr/bin/env node
// Drives Bentley's official npm clients (@itwin/itwins-client 1.6.1, @itwin/projects-client
// 0.7.0) against an emulator and prints ONE JSON document with what the clients returned.
// tests/node/test_official_clients.py runs it and asserts on that document.
//
// Usage: ITWIN_TOKEN=... ITWIN_OTHER_TOKEN=... ITWIN_OTHER_EMAIL=... \
//          node drive_clients.js http://127.0.0.1:PORT
// ITWIN_TOKEN belongs to an org admin; ITWIN_OTHER_TOKEN to a plain user of the same
// organization whose email is ITWIN_OTHER_EMAIL. Tokens come from the environment (never argv,
// never printed). The base URL has no trailing slash.
//
// Calls the clients do not offer (iTwins favorites/recents POST/DELETE in 1.6.1, every Projects
// write in 0.7.0) are made with Node's http module, shaped as Bentley's sample apps make them, and recorded
// under keys starting with "raw".
"use strict";

const http = require("http");
const { ITwinsAccessClient } = require("@itwin/itwins-client");
const { ProjectsAccessClient } = require("@itwin/projects-client");

const base = process.argv[2];
const token = process.env.ITWIN_TOKEN;
const otherToken = process.env.ITWIN_OTHER_TOKEN;
if (!base || !token || !otherToken || !process.env.ITWIN_OTHER_EMAIL) {
  process.stderr.write(
    "usage: ITWIN_TOKEN=.. ITWIN_OTHER_TOKEN=.. ITWIN_OTHER_EMAIL=.. node drive_clients.js BASE\n",
  );
  process.exit(2);
}
// The official clients pass the token verbatim as the authorization header.
const auth = `Bearer ${token}`;
const otherAuth = `Bearer ${otherToken}`;

// Node's http module rather than fetch: works on the older Node.js some distributions ship.
function raw(method, url, authorization, body, extraHeaders) {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers = { authorization, ...(extraHeaders || {}) };
  if (payload !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = payload.length;
  }
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let data = null;
        try {
          data = text === "" ? null : JSON.parse(text);
        } catch (_e) {
          data = { unparsable: text };
        }
        resolve({
          status: response.statusCode,
          contentType: response.headers["content-type"] || null,
          bodyLength: text.length,
          data,
        });
      });
    });
    request.on("error", reject);
    if (payload !== undefined) request.write(payload);
    request.end();
  });
}

// The projects client throws Error("API request error: <JSON of the axios error>"); keep the
// HTTP status it carries so the test can assert on it.
async function attempt(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const message = String(err && err.message);
    const match = /"status":(\d+)/.exec(message) || /status code (\d+)/.exec(message);
    return { ok: false, status: match ? Number(match[1]) : null, message: message.slice(0, 120) };
  }
}

async function driveITwins(out) {
  const client = new ITwinsAccessClient(`${base}/itwins`);
  const bridge = {
    class: "Endeavor",
    subClass: "Project",
    type: "Bridge",
    displayName: "Node Client Bridge",
    number: "NODE-001",
    geographicLocation: "Exton, PA",
    ianaTimeZone: "America/New_York",
    dataCenterLocation: "East US",
    status: "Active",
  };
  out.create = await client.createiTwin(auth, bridge);
  out.createDuplicate = await client.createiTwin(auth, { ...bridge, displayName: "Other" });
  out.createMissingClass = await client.createiTwin(auth, {
    subClass: "Project",
    displayName: "No class",
    number: "NODE-BAD",
  });
  out.createAsset = await client.createiTwin(auth, {
    class: "Thing",
    subClass: "Asset",
    displayName: "Node Client Asset",
    number: "NODE-002",
  });
  const id = out.create.data && out.create.data.id;
  const assetId = out.createAsset.data && out.createAsset.data.id;

  out.getMinimal = await client.getAsync(auth, id);
  out.getRepresentation = await client.getAsync(auth, id, "representation");
  out.listProjects = await client.queryAsync(auth, undefined, { subClass: "Project" });
  out.listDeprecatedSubClassArg = await client.queryAsync(auth, "Asset");
  out.listAll = await client.queryAsync(auth);
  // No subClass: the client builds a query string starting with "&" ("&$top=1").
  out.listTop1 = await client.queryAsync(auth, undefined, { top: 1 });
  out.listTop1Skip1 = await client.queryAsync(auth, undefined, { top: 1, skip: 1 });
  out.listSearch = await client.queryAsync(auth, undefined, { search: "Bridge" });
  out.listNumber = await client.queryAsync(auth, undefined, { number: "NODE-002" });
  out.listRepresentation = await client.queryAsync(auth, undefined, {
    subClass: "Project",
    resultMode: "representation",
  });
  out.listOtherUserBefore = await client.queryAsync(otherAuth, undefined, { subClass: "Project" });
  out.getOtherUserBefore = await client.getAsync(otherAuth, id);

  // Make the other user a member with a read-only role (Access Control v2, raw: the iTwins
  // client has no access-control calls) so that its update/delete meet 403, not 404.
  const v2 = { accept: "application/vnd.bentley.itwin-platform.v2+json" };
  const ac = `${base}/accesscontrol/itwins/${id}`;
  out.rawCreateRole = await raw("POST", `${ac}/roles`, auth, {
    displayName: "Reader",
    description: "Reads only",
  }, v2);
  const roleId = out.rawCreateRole.data && out.rawCreateRole.data.role.id;
  out.rawAddMember = await raw("POST", `${ac}/members/users`, auth, {
    members: [{ email: process.env.ITWIN_OTHER_EMAIL, roleIds: [roleId] }],
  }, v2);
  out.listOtherUser = await client.queryAsync(otherAuth, undefined, { subClass: "Project" });

  out.update = await client.updateiTwin(auth, id, {
    displayName: "Node Client Bridge v2",
    geographicLocation: "Paris, France",
  });
  out.updateForbidden = await client.updateiTwin(otherAuth, id, { displayName: "Hijack" });

  out.rawFavoriteAdd = await raw("POST", `${base}/itwins/favorites/${id}`, auth);
  out.favorites = await client.queryFavoritesAsync(auth);
  out.favoritesProjects = await client.queryFavoritesAsync(auth, undefined, { subClass: "Project" });
  out.rawFavoriteRemove = await raw("DELETE", `${base}/itwins/favorites/${id}`, auth);
  out.favoritesAfterRemove = await client.queryFavoritesAsync(auth);

  out.rawRecentAddBridge = await raw("POST", `${base}/itwins/recents/${id}`, auth);
  out.rawRecentAddAsset = await raw("POST", `${base}/itwins/recents/${assetId}`, auth);
  out.recents = await client.queryRecentsAsync(auth);

  out.primaryAccount = await client.getPrimaryAccountAsync(auth);
  out.account = await client.getAccountAsync(auth, id);

  out.getUnknown = await client.getAsync(auth, "00000000-0000-4000-8000-000000000000");
  out.getNoToken = await client.getAsync("", id);
  out.getBadToken = await client.getAsync("Bearer not-a-token", id);

  out.deleteForbidden = await client.deleteiTwin(otherAuth, id);
  out.delete = await client.deleteiTwin(auth, id);
  out.getAfterDelete = await client.getAsync(auth, id);
  out.deleteAsset = await client.deleteiTwin(auth, assetId);
}

async function driveProjects(out) {
  const client = new ProjectsAccessClient();
  // The client has no URL argument; this is how its own tests retarget it.
  client._baseUrl = `${base}/projects/`;
  const alpha = {
    displayName: "Node Project Alpha",
    projectNumber: "NP-ALPHA",
    geographicLocation: "Vilnius, Lithuania",
    latitude: "54.687157",
    longitude: "25.279652",
    timeZone: "EEST",
    billingCountry: "LT",
    allowExternalTeamMembers: true,
  };
  out.rawCreateAlpha = await raw("POST", `${base}/projects/`, auth, alpha);
  out.rawCreateBeta = await raw("POST", `${base}/projects/`, auth, {
    displayName: "Node Project Beta",
    projectNumber: "NP-BETA",
  });
  out.rawCreateDuplicate = await raw("POST", `${base}/projects/`, auth, alpha);
  const alphaId = out.rawCreateAlpha.data && out.rawCreateAlpha.data.project.id;
  const betaId = out.rawCreateBeta.data && out.rawCreateBeta.data.project.id;
  out.rawAddMember = await raw("POST", `${base}/projects/${alphaId}/members`, auth, {
    email: process.env.ITWIN_OTHER_EMAIL,
  });

  out.getAll = await attempt(() => client.getAll(auth));
  out.getAllOtherUser = await attempt(() => client.getAll(otherAuth));
  out.getByIdOtherUserBeta = await attempt(() => client.getByProjectId(otherAuth, betaId));
  out.exactName = await attempt(() =>
    client.getAll(auth, {
      search: { exactMatch: true, propertyName: "displayName", searchString: "Node Project Beta" },
    }),
  );
  out.substring = await attempt(() =>
    client.getAll(auth, { search: { exactMatch: false, propertyName: "displayName", searchString: "Alpha" } }),
  );

  // Paging through _links: the client follows next/prev hrefs verbatim.
  const page1 = await attempt(() => client.getByQuery(auth, { pagination: { top: 1 } }));
  out.page1 = page1.ok
    ? { projects: page1.value.projects, links: Object.keys(page1.value.links).sort() }
    : page1;
  if (page1.ok && page1.value.links.next) {
    const page2 = await attempt(() => page1.value.links.next(auth));
    out.page2 = page2.ok
      ? { projects: page2.value.projects, links: Object.keys(page2.value.links).sort() }
      : page2;
    if (page2.ok && page2.value.links.previous) {
      const back = await attempt(() => page2.value.links.previous(auth));
      out.page2Previous = back.ok ? { projects: back.value.projects } : back;
    }
  }
  out.skip1 = await attempt(() => client.getAll(auth, { pagination: { skip: 1, top: 5 } }));

  out.rawFavoriteAdd = await raw("POST", `${base}/projects/favorites/${betaId}`, auth);
  out.favorites = await attempt(() => client.getAll(auth, { source: "favorites" }));
  out.rawFavoriteRemove = await raw("DELETE", `${base}/projects/favorites/${betaId}`, auth);
  out.favoritesAfterRemove = await attempt(() => client.getAll(auth, { source: "favorites" }));
  out.rawRecentAddAlpha = await raw("POST", `${base}/projects/recents/${alphaId}`, auth);
  out.rawRecentAddBeta = await raw("POST", `${base}/projects/recents/${betaId}`, auth);
  out.recents = await attempt(() => client.getAll(auth, { source: "recents" }));
  out.recentsTop1 = await attempt(() =>
    client.getAll(auth, { source: "recents", pagination: { top: 1 } }),
  );

  out.getById = await attempt(() => client.getByProjectId(auth, alphaId));
  out.getByIdUnknown = await attempt(() =>
    client.getByProjectId(auth, "00000000-0000-4000-8000-000000000000"),
  );
  out.getAllBadToken = await attempt(() => client.getAll("Bearer not-a-token"));

  out.rawGetRepresentation = await raw("GET", `${base}/projects/${alphaId}`, auth, undefined, {
    prefer: "return=representation",
  });
  out.rawDeleteForbidden = await raw("DELETE", `${base}/projects/${alphaId}`, otherAuth);
  out.rawDeleteAlpha = await raw("DELETE", `${base}/projects/${alphaId}`, auth);
  out.rawDeleteBeta = await raw("DELETE", `${base}/projects/${betaId}`, auth);
  out.getByIdAfterDelete = await attempt(() => client.getByProjectId(auth, alphaId));
}

async function main() {
  const result = { itwins: {}, projects: {} };
  await driveITwins(result.itwins);
  await driveProjects(result.projects);
  process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
}

main().catch((err) => {
  process.stderr.write(`drive_clients.js failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
