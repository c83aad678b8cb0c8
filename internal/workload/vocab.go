package workload

import (
	"fmt"
	"strconv"
)

// Services are the 20 service names of the workload.
var serviceNames = [...]string{
	"frontend", "checkout", "cart", "catalog", "payment", "shipping", "email", "currency", "recommendation",
	"ad", "auth", "user", "inventory", "order", "search", "review", "notification", "pricing", "fraud", "gateway",
}

const (
	numServices      = len(serviceNames)
	instancesPerSvc  = 5
	numResources     = numServices * instancesPerSvc
	numUsers         = 10000
	numRoutes        = 40
	numQueryTmpls    = 60
	numLogTemplates  = 50
	scopeName        = "otlpd.dev/workload"
	scopeVersion     = "1.0.0"
	stackTraceLines  = 20
	numStackVariants = 16
)

var httpMethods = [...]string{"GET", "POST", "PUT", "DELETE", "PATCH"}

// methodWeights: most requests are reads.
var methodWeights = [...]float64{0.6, 0.2, 0.1, 0.05, 0.05}

var routeNouns = [...]string{"cart", "orders", "products", "users", "payments", "shipments", "reviews", "sessions"}

// routes returns the 40 http.route templates: 8 nouns x 5 shapes. The second return value tells whether a
// template has an {id} to fill.
func routes() ([]string, []bool) {
	shapes := [...]struct {
		f  string
		id bool
	}{
		{"/api/v1/%s", false}, {"/api/v1/%s/{id}", true}, {"/api/v1/%s/{id}/items", true},
		{"/api/v1/%s/search", false}, {"/api/v1/%s/{id}/history", true},
	}
	var r []string
	var ids []bool
	for _, n := range routeNouns {
		for _, s := range shapes {
			r = append(r, fmt.Sprintf(s.f, n))
			ids = append(ids, s.id)
		}
	}
	return r, ids
}

var dbSystems = [...]string{"postgresql", "mysql", "redis", "mongodb"}

var dbTables = [...]string{
	"orders", "order_items", "products", "users", "payments", "shipments", "carts", "sessions", "reviews",
	"inventory", "prices", "coupons",
}

// queryTemplates returns the 60 db.query.text templates (12 tables x 5 statements); %d is a literal.
func queryTemplates() []string {
	shapes := [...]string{
		"SELECT * FROM %s WHERE id = %%d",
		"SELECT id, status, updated_at FROM %s WHERE user_id = %%d ORDER BY updated_at DESC LIMIT 20",
		"UPDATE %s SET status = 'done', updated_at = now() WHERE id = %%d",
		"INSERT INTO %s (user_id, status, created_at) VALUES (%%d, 'new', now())",
		"DELETE FROM %s WHERE id = %%d AND status = 'cancelled'",
	}
	var q []string
	for _, t := range dbTables {
		for _, s := range shapes {
			q = append(q, fmt.Sprintf(s, t))
		}
	}
	return q
}

var dbOps = [...]string{"SELECT", "SELECT", "UPDATE", "INSERT", "DELETE"}

var rpcMethods = [...]string{
	"GetCart", "AddItem", "EmptyCart", "Charge", "Refund", "GetQuote", "ShipOrder", "SendConfirmation",
	"Convert", "ListRecommendations", "GetAds", "Authenticate", "GetUser", "Reserve", "PlaceOrder", "Search",
	"ListReviews", "Notify", "GetPrice", "Score",
}

var internalFuncs = [...]string{
	"validateRequest", "loadSession", "computeTotals", "applyDiscounts", "renderResponse", "serialize",
	"checkPermissions", "buildQuery", "parsePayload", "enrichContext",
}

var eventNames = [...]string{"cache.miss", "retry", "message.sent", "feature_flag.evaluated", "rate_limit.checked"}

var exceptionTypes = [...]string{
	"java.lang.IllegalStateException", "context.DeadlineExceeded", "ConnectionResetError", "TimeoutError",
	"sql.ErrNoRows", "io.EOF", "ValueError", "NullPointerException",
}

var exceptionMessages = [...]string{
	"connection reset by peer", "deadline exceeded after 5s", "no rows in result set", "unexpected EOF",
	"invalid state: order already shipped", "upstream returned 503", "pool exhausted: 50 of 50 in use",
	"nil pointer dereference",
}

// stackTraces returns numStackVariants stack traces of stackTraceLines lines each.
func stackTraces() []string {
	out := make([]string, numStackVariants)
	for v := range out {
		b := []byte("goroutine " + strconv.Itoa(100+v) + " [running]:\n")
		for l := 1; l < stackTraceLines; l++ {
			svc := serviceNames[(v+l)%numServices]
			fn := internalFuncs[(v*3+l)%len(internalFuncs)]
			b = fmt.Appendf(b, "\tgithub.com/shop/%s/internal/handler.%s(0xc000%04x)  /src/%s/handler.go:%d", svc, fn,
				v*64+l, svc, 20+l*7)
			if l < stackTraceLines-1 {
				b = append(b, '\n')
			}
		}
		out[v] = string(b)
	}
	return out
}

// logTemplates are the 50 log message templates; each %s/%d is a variable part. Rendered bodies are about
// 100 bytes.
var logTemplates = [numLogTemplates]string{
	"Processed order %d for user %s in %d ms, 3 items, total 129.90 EUR, payment authorized",
	"Cache miss for key product:%d on shard %d, loading from primary database (ttl 300s)",
	"HTTP GET /api/v1/products/%d completed with status 200 in %d ms (bytes=%d)",
	"User %s logged in from 10.%d.%d.7 using password authentication, session created",
	"Retrying request to payment service (attempt %d of 5) after error: connection reset by peer",
	"Scheduled job cleanup-expired-carts removed %d carts older than 24h in %d ms",
	"Slow query detected: SELECT on orders took %d ms (threshold 200 ms), rows=%d",
	"Sending confirmation email to %s for order %d via smtp relay mail-%d.internal",
	"Inventory reserved for sku %d: quantity %d, warehouse eu-west-%d, reservation held 15m",
	"Rate limit reached for client %s: %d requests in the last 60s, rejecting with 429",
	"Feature flag new-checkout-flow evaluated to true for user %s (rollout %d%%, rule %d)",
	"Payment of %d.%d EUR captured for order %d by provider stripe, fee included",
	"Shipment %d created with carrier dhl, estimated delivery in %d days, weight %d g",
	"Connection pool stats: %d active, %d idle, %d waiting, max 50 connections",
	"Failed to parse request body for /api/v1/cart/%d: unexpected end of JSON input",
	"Recommendation model v%d returned %d items for user %s in %d ms",
	"Currency conversion USD->EUR rate 0.9%d applied to cart %d with %d lines",
	"Kafka message published to topic orders.events partition %d offset %d size %d bytes",
	"Consumer group order-workers rebalanced: %d partitions assigned, generation %d",
	"Session %s expired after %d minutes of inactivity, cart preserved for 7 days",
	"Health check passed: database ok, cache ok, queue lag %d messages, uptime %d s",
	"Search query 'running shoes size %d' returned %d hits in %d ms from index products-v3",
	"Authorization denied for user %s on resource /admin/orders/%d: missing role admin",
	"Uploaded invoice-%d.pdf to object storage bucket invoices-prod (%d bytes, %d ms)",
	"Background task reindex-products finished: %d documents, %d errors, %d s elapsed",
	"Coupon SPRING%d applied to order %d: discount %d%%, remaining uses 42",
	"TLS handshake with upstream api.partner.example failed: certificate expired %d days ago",
	"Queue depth for notifications is %d, above warning threshold of %d, scaling workers",
	"Order %d state changed from pending to paid by user %s after %d ms",
	"Price update batch %d applied: %d products changed, average delta %d cents",
	"Received webhook from payment provider for charge ch_%d with status succeeded (%d ms)",
	"Fraud score %d computed for order %d using model fraud-v%d, decision: allow",
	"Dropping %d stale websocket connections after missed heartbeats from gateway-%d",
	"Config reloaded from /etc/shop/service.yaml: %d keys changed, version %d",
	"gRPC call shipping.GetQuote to shipping:%d returned OK in %d ms for cart %d",
	"Database migration %d applied successfully in %d ms, schema version now %d",
	"User %s added product %d to cart, cart now has %d items worth 84.50 EUR",
	"Garbage collection pause of %d ms exceeded budget, heap %d MiB, goroutines %d",
	"Circuit breaker for recommendation opened after %d consecutive failures in %d s",
	"Circuit breaker for recommendation closed, %d probe requests succeeded in %d ms",
	"Email delivery to %s deferred by remote server: 451 try again later (attempt %d)",
	"Stock level for sku %d dropped below reorder point: %d units left in warehouse %d",
	"Request id req-%d took %d ms end to end, %d ms spent in downstream calls",
	"Cart %d abandoned by user %s after %d minutes, reminder email scheduled",
	"Token refresh for user %s succeeded, new token valid for %d s, scopes %d",
	"Review %d by user %s flagged for moderation: %d reports from other users",
	"Export of %d analytics events to warehouse completed in %d ms, batch %d",
	"DNS lookup for payments.internal took %d ms, resolved to %d addresses, ttl %d",
	"Worker %d picked job send-receipt-%d from queue after waiting %d ms",
	"Unhandled panic recovered in handler /api/v1/orders/%d: index out of range [%d]",
}

var logFuncs = [...]string{
	"HandleOrder", "LoadProduct", "ServeHTTP", "Login", "Retry", "CleanupCarts", "RunQuery", "SendEmail",
	"Reserve", "Limit",
}
