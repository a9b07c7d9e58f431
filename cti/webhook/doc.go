// Package webhook delivers call events to CRM endpoints over HTTP
// (docs/webhooks.md): on ring, answer or hangup the server POSTs a JSON
// body, signed with HMAC-SHA256 under the endpoint's secret, to each
// endpoint that wants the event.
//
// A Deliverer owns one bounded queue and one worker goroutine per
// endpoint. Send, called by the hub, only appends to the queue and never
// blocks: a full queue drops its oldest delivery and counts it. The worker
// encodes the body, posts it, and retries 5xx answers, 408 and 429,
// timeouts and connection errors with exponential backoff and jitter,
// bounded in attempts and in time; any other answer ends the delivery.
// Because one worker delivers an endpoint's queue in order, a later event
// of a call is never sent before the last attempt of an earlier one.
//
// The clock, the sleep between attempts and the jitter's random source
// are fields of Options, so tests drive retries without waiting; the
// package has no global mutable state.
//
// Only the engine lives here: which endpoints a service has (the model,
// the XML, the configurator) and the server's calls to Send are not
// wired yet.
package webhook
