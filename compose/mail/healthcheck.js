// Healthy when MailDev's API answers the lab login (GET /email) and refuses a request without it.
const http = require("node:http");

function get(path, auth) {
  return new Promise((resolve, reject) => {
    const headers = auth ? { Authorization: `Basic ${Buffer.from(auth).toString("base64")}` } : {};
    const req = http.get(
      { host: "127.0.0.1", port: process.env.MAILDEV_WEB_PORT || 1080, path, headers, timeout: 8000 },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`${path}: timeout`)));
  });
}

(async () => {
  const ok = await get("/email", `${process.env.MAILDEV_WEB_USER}:${process.env.MAILDEV_WEB_PASS}`);
  if (ok !== 200) throw new Error(`/email with the login: ${ok}`);
  const anon = await get("/email");
  if (anon !== 401) throw new Error(`/email without a login: ${anon} (expected 401)`);
})().then(
  () => process.exit(0),
  (err) => {
    console.error(err.message);
    process.exit(1);
  },
);
