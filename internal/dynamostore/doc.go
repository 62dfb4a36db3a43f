// Package dynamostore is the monitor.Store on Amazon DynamoDB
// (aws-sdk-go-v2), used by the Lambda functions on AWS and optionally by
// the local runtime.
//
// The table's schema is fixed by the CDK stack (see CreateTable): keys pk
// and sk, the GSI byCreatedV2 on gsi1pk/gsi1sk, TTL on ttl. Each monitor is
// one item (pk "MON#<id>", sk "STATUS") holding the status record, the
// alert state and the events, so that every change is one conditional
// write: the claim of an instance id (attribute_not_exists), monotonic
// check updates (cc < :n), first-wins Finish, the alert claim, the
// capped append of an event, and the rewrite of the event list that
// marks pending events consumed and drops those of earlier checks (on
// condition that the list's size and version, evv, are as read). A failed condition is explained from the
// item returned with ReturnValuesOnConditionCheckFailure=ALL_OLD: no item
// is KindNotFound, a finished one KindGone (or, for RecordCheck, simply not
// applied). The alert claim and the append of an event also write a token
// drawn for the call (alk; an event's k, gathered in the set evk), so that
// when the SDK sends again a write that DynamoDB applied but whose answer
// was lost, the failed condition's item shows the write as the call's own.
//
// List spreads records over eight GSI partitions (gsi1pk "LIST#0" …
// "LIST#7", by a hash of the instance id) so that the index's write load,
// which every status update adds to, has no single hot partition; gsi1sk
// is the created time (fixed-width RFC 3339, UTC) and the instance id, so
// the created-time range is a key condition. List queries the eight
// partitions newest first and merges them. A status filter is a filter
// expression, so one List call reads a bounded number of index items and
// may return a short or empty page with a continuation token.
package dynamostore
