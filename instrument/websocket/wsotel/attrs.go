package wsotel

import "go.opentelemetry.io/otel/attribute"

// Attribute keys. The ws.* keys are otlpd's (from the seed document); the others are stable OpenTelemetry
// semantic conventions.
const (
	AttrURL            = attribute.Key("ws.url")             // scheme://host[:port]/path, no userinfo, no query
	AttrMessageType    = attribute.Key("ws.message.type")    // "text" or "binary"
	AttrMessageSize    = attribute.Key("ws.message.size")    // payload bytes on the wire (before compression)
	AttrCloseCode      = attribute.Key("ws.close.code")      // RFC 6455 status code, 1006 when no close frame
	AttrCloseReason    = attribute.Key("ws.close.reason")    // close frame reason text
	AttrCloseInitiator = attribute.Key("ws.close.initiator") // "local" or "peer"
	AttrSubprotocol    = attribute.Key("ws.subprotocol")     // negotiated Sec-WebSocket-Protocol
	AttrRole           = attribute.Key("ws.role")            // "client" or "server" (metrics only)

	attrURLScheme     = attribute.Key("url.scheme")
	attrURLPath       = attribute.Key("url.path")
	attrURLFull       = attribute.Key("url.full")
	attrServerAddress = attribute.Key("server.address")
	attrServerPort    = attribute.Key("server.port")
	attrClientAddress = attribute.Key("client.address")
	attrPeerAddress   = attribute.Key("network.peer.address")
	attrPeerPort      = attribute.Key("network.peer.port")
	attrProtoName     = attribute.Key("network.protocol.name")
	attrProtoVersion  = attribute.Key("network.protocol.version")
	attrTransport     = attribute.Key("network.transport")
	attrIODirection   = attribute.Key("network.io.direction")
	attrHTTPMethod    = attribute.Key("http.request.method")
	attrHTTPStatus    = attribute.Key("http.response.status_code")
	attrUserAgent     = attribute.Key("user_agent.original")
	attrErrorType     = attribute.Key("error.type")
)

// MessageType is the value of ws.message.type.
type MessageType uint8

// Message types. Control frames (ping, pong, close) are not messages here: ping RTT has its own histogram and
// close is recorded on ws.connection.
const (
	Text MessageType = iota
	Binary
)

func (t MessageType) String() string {
	if t == Binary {
		return "binary"
	}
	return "text"
}

// Role says which end of a connection this process is.
type Role uint8

// Roles.
const (
	Client Role = iota
	Server
)

func (r Role) String() string {
	if r == Server {
		return "server"
	}
	return "client"
}
