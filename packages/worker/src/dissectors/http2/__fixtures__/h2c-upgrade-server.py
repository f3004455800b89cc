# A minimal HTTP/1.1 -> h2c upgrade server (RFC 7540 §3.2) for the h2c-upgrade fixture: Debian's
# python3-h2 does the HTTP/2 side; node's http2 server has no h2c upgrade.
# Usage: /usr/bin/python3 h2c-upgrade-server.py PORT
import socket, sys, json
import h2.connection, h2.config, h2.events

def serve(conn_sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn_sock.recv(65536)
        if not chunk:
            return
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        rest += conn_sock.recv(65536)
    conn_sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
    h2c = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
    h2c.initiate_upgrade_connection(headers["http2-settings"])
    status = "404" if path == "/missing" else "200"
    body = json.dumps({"method": method, "path": path, "upgraded": True}).encode()
    # stream 1 is the upgrade request itself (§3.2): answer it over HTTP/2
    h2c.send_headers(1, [(":status", status), ("content-type", "application/json"), ("content-length", str(len(body)))])
    h2c.send_data(1, body, end_stream=True)
    conn_sock.sendall(h2c.data_to_send())
    while True:
        chunk = conn_sock.recv(65536)
        if not chunk:
            break
        for ev in h2c.receive_data(chunk):
            if isinstance(ev, h2.events.RequestReceived):
                h = dict(ev.headers)
                b = json.dumps({"path": h.get(b":path", b"").decode(), "upgraded": False}).encode()
                h2c.send_headers(ev.stream_id, [(":status", "200"), ("content-type", "application/json"), ("content-length", str(len(b)))])
                h2c.send_data(ev.stream_id, b, end_stream=True)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                conn_sock.sendall(h2c.data_to_send())
                return
        conn_sock.sendall(h2c.data_to_send())

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(8)
print("ready", flush=True)
while True:
    c, _ = srv.accept()
    try:
        serve(c)
    except (ConnectionError, OSError):
        pass  # a client that resets after its answer is fine
    finally:
        c.close()
