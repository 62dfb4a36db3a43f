package sfnapi_test

import (
	"fmt"
	"strings"
	"testing"
)

// tagList returns the JSON of n tags k0=v0, k1=v1, ...
func tagList(n int) string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf(`{"key":"k%d","value":"v%d"}`, i, i)
	}
	return "[" + strings.Join(tags, ",") + "]"
}

// TestEncryptionAndTags checks CreateStateMachine's and
// UpdateStateMachine's encryptionConfiguration and CreateStateMachine's
// tags as AWS documents them (API Reference: EncryptionConfiguration,
// Tag, CreateStateMachine): Coral's constraints as ValidationException,
// then InvalidEncryptionConfiguration for a customer managed key without
// its id and TooManyTags over 50 tags.
func TestEncryptionAndTags(t *testing.T) {
	srv, _ := newServer(t)
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"sm","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`)
	n := 0
	create := func(members string) string {
		n++
		return fmt.Sprintf(`{"name":"m%d","definition":%s,"roleArn":"%s",%s}`, n, jsonString(passDef), role, members)
	}
	update := func(members string) string { return `{"stateMachineArn":"` + smArn + `sm",` + members + `}` }
	key := "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	tests := []struct {
		name, op, body string
		wantType       string // "" for success
		wantMessage    string // what the message contains
	}{
		{"AWS owned key", "CreateStateMachine", create(`"encryptionConfiguration":{"type":"AWS_OWNED_KEY"}`), "", ""},
		{"customer managed key", "CreateStateMachine", create(`"encryptionConfiguration":{"type":"CUSTOMER_MANAGED_KMS_KEY","kmsKeyId":"` + key + `","kmsDataKeyReusePeriodSeconds":60}`), "", ""},
		{"longest key id and period", "CreateStateMachine", create(`"encryptionConfiguration":{"type":"CUSTOMER_MANAGED_KMS_KEY","kmsKeyId":"` + strings.Repeat("k", 2048) + `","kmsDataKeyReusePeriodSeconds":900}`), "", ""},
		{"update encryption only", "UpdateStateMachine", update(`"encryptionConfiguration":{"type":"AWS_OWNED_KEY"}`), "", ""},
		{"unknown type", "CreateStateMachine", create(`"encryptionConfiguration":{"type":"BOGUS"}`), validation,
			"1 validation error detected: Value 'BOGUS' at 'encryptionConfiguration.type' failed to satisfy constraint: Member must satisfy enum value set: [AWS_OWNED_KEY, CUSTOMER_MANAGED_KMS_KEY]"},
		{"empty type", "CreateStateMachine", create(`"encryptionConfiguration":{"type":""}`), validation,
			"Value '' at 'encryptionConfiguration.type' failed to satisfy constraint: Member must satisfy enum value set"},
		{"no type", "CreateStateMachine", create(`"encryptionConfiguration":{"kmsKeyId":"k"}`), validation,
			"Value null at 'encryptionConfiguration.type' failed to satisfy constraint: Member must not be null"},
		{"customer managed without a key", "CreateStateMachine", create(`"encryptionConfiguration":{"type":"CUSTOMER_MANAGED_KMS_KEY"}`),
			svc + "InvalidEncryptionConfiguration", "kmsKeyId"},
		{"update customer managed without a key", "UpdateStateMachine", update(`"encryptionConfiguration":{"type":"CUSTOMER_MANAGED_KMS_KEY"}`),
			svc + "InvalidEncryptionConfiguration", "kmsKeyId"},
		{"empty key id", "CreateStateMachine", create(`"encryptionConfiguration":{"type":"CUSTOMER_MANAGED_KMS_KEY","kmsKeyId":""}`), validation,
			"Value '' at 'encryptionConfiguration.kmsKeyId' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"long key id", "CreateStateMachine", create(`"encryptionConfiguration":{"type":"CUSTOMER_MANAGED_KMS_KEY","kmsKeyId":"` + strings.Repeat("k", 2049) + `"}`), validation,
			"at 'encryptionConfiguration.kmsKeyId' failed to satisfy constraint: Member must have length less than or equal to 2048"},
		{"short reuse period", "CreateStateMachine", create(`"encryptionConfiguration":{"type":"CUSTOMER_MANAGED_KMS_KEY","kmsKeyId":"k","kmsDataKeyReusePeriodSeconds":59}`), validation,
			"Value '59' at 'encryptionConfiguration.kmsDataKeyReusePeriodSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"},
		{"long reuse period", "UpdateStateMachine", update(`"encryptionConfiguration":{"type":"CUSTOMER_MANAGED_KMS_KEY","kmsKeyId":"k","kmsDataKeyReusePeriodSeconds":901}`), validation,
			"Value '901' at 'encryptionConfiguration.kmsDataKeyReusePeriodSeconds' failed to satisfy constraint: Member must have value less than or equal to 900"},
		{"encryption constraints before the missing key", "CreateStateMachine", create(`"encryptionConfiguration":{"type":"CUSTOMER_MANAGED_KMS_KEY","kmsDataKeyReusePeriodSeconds":1}`), validation,
			"1 validation error detected: Value '1' at 'encryptionConfiguration.kmsDataKeyReusePeriodSeconds'"},

		{"50 tags", "CreateStateMachine", create(`"tags":` + tagList(50)), "", ""},
		{"longest key and value, empty value, no value", "CreateStateMachine", create(`"tags":[{"key":"` + strings.Repeat("k", 128) + `","value":"` +
			strings.Repeat("v", 256) + `"},{"key":"e","value":""},{"key":"n"}]`), "", ""},
		{"51 tags", "CreateStateMachine", `{"name":"many","definition":` + jsonString(passDef) + `,"roleArn":"` + role + `","tags":` + tagList(51) + `}`,
			svc + "TooManyTags", smArn + "many"},
		{"empty tag key", "CreateStateMachine", create(`"tags":[{"key":"","value":"v"}]`), validation,
			"1 validation error detected: Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"long tag key", "CreateStateMachine", create(`"tags":[{"key":"k","value":"v"},{"key":"` + strings.Repeat("k", 129) + `","value":"v"}]`), validation,
			"at 'tags.2.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"long tag value", "CreateStateMachine", create(`"tags":[{"key":"k","value":"` + strings.Repeat("v", 257) + `"}]`), validation,
			"at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"tag constraints before their number", "CreateStateMachine", create(`"tags":` + strings.Replace(tagList(51), `"k0"`, `""`, 1)), validation,
			"Value '' at 'tags.1.member.key'"},
		{"constraints of tags and encryption together", "CreateStateMachine", create(`"tags":[{"key":""}],"encryptionConfiguration":{"type":"X"}`), validation,
			"2 validation errors detected: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, m := call(t, srv.URL, tt.op, tt.body)
			wantAnswer(t, code, m, tt.wantType, tt.wantMessage)
			if tt.wantType == svc+"TooManyTags" && m["resourceName"] != tt.wantMessage {
				t.Errorf("resourceName = %v, want %s", m["resourceName"], tt.wantMessage)
			}
		})
	}
}
