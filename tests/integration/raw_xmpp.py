"""A minimal XMPP client on a plain socket (standard library only), used to
send exact stanzas, byte for byte, as the Java Fogbow manager did, and to
read the exact replies. SASL PLAIN without TLS: test servers only."""

import base64
import socket
import xml.etree.ElementTree as ET

STREAM = ("<?xml version='1.0'?><stream:stream to='{domain}' version='1.0' "
          "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")


class RawXmppClient:
    def __init__(self, port, user, password, domain="localhost",
                 resource="java", host="127.0.0.1"):
        self.domain = domain
        self.sock = socket.create_connection((host, port), timeout=10)
        self._start_stream()
        self.next_element()  # <stream:features>
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                  f"mechanism='PLAIN'>{token}</auth>")
        reply = self.next_element()
        if not reply.tag.endswith("success"):
            raise RuntimeError("SASL failed: " + ET.tostring(reply).decode())
        self._start_stream()
        self.next_element()  # <stream:features>
        self.send("<iq type='set' id='bind-1'><bind xmlns='urn:ietf:params:"
                  f"xml:ns:xmpp-bind'><resource>{resource}</resource></bind></iq>")
        bound = self.next_element()
        self.jid = bound.find(".//{urn:ietf:params:xml:ns:xmpp-bind}jid").text

    def _start_stream(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.pending = []
        self.send(STREAM.format(domain=self.domain))

    def send(self, text):
        self.sock.sendall(text.encode())

    def next_element(self):
        """The next complete top-level stanza of the stream."""
        while True:
            while self.pending:
                event, element = self.pending.pop(0)
                if event == "start":
                    self.depth += 1
                else:
                    self.depth -= 1
                    if self.depth == 1:
                        return element
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("stream closed")
            self.parser.feed(data)
            self.pending.extend(self.parser.read_events())

    def iq(self, raw, iq_id):
        """Sends a raw stanza and returns the IQ reply with that id."""
        self.send(raw)
        while True:
            element = self.next_element()
            if element.tag == "{jabber:client}iq" and element.get("id") == iq_id:
                return element

    def close(self):
        try:
            self.send("</stream:stream>")
            self.sock.close()
        except OSError:
            pass
