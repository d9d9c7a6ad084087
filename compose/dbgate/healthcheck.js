// Healthy when DBGate answers a real login with a token and lists the lab connection.
const http = require("node:http");

function post(path, body, token) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const headers = { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) };
    if (token) headers.Authorization = `Bearer ${token}`;
    const req = http.request(
      { host: "127.0.0.1", port: process.env.PORT || 3000, path, method: "POST", headers, timeout: 8000 },
      (res) => {
        let text = "";
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${path}: ${res.statusCode}`))));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`${path}: timeout`)));
    req.end(data);
  });
}

(async () => {
  const login = await post("/auth/login", { amoid: "logins", login: process.env.LOGIN, password: process.env.PASSWORD });
  if (!login.accessToken) throw new Error("login returned no token");
  const conns = await post("/connections/list", {}, login.accessToken);
  const wanted = (process.env.CONNECTIONS || "").split(",").filter(Boolean);
  for (const id of wanted) {
    if (!conns.some((c) => c._id === id)) throw new Error(`connection ${id} not listed`);
  }
})().then(
  () => process.exit(0),
  (err) => {
    console.error(err.message);
    process.exit(1);
  },
);
