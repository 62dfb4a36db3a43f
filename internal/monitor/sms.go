package monitor

import (
	"fmt"
	"slices"
	"strings"
)

// SMSChannels are the channels that can deliver a deployment's text
// messages ({"alert": {"phone": ...}}): ChannelSNS when its alert function
// may publish to phone numbers, ChannelTwilio when it has Twilio
// credentials. Start refuses a phone alert on a channel the deployment
// lacks, which would otherwise fail only when the alert is sent, and end
// the monitor Failed.
//
// A nil SMSChannels accepts every channel (the local runtime, where SNS
// text messages go to the outbox); an empty one accepts no phone alert.
type SMSChannels []string

// ParseSMSChannels parses a comma-separated list of channels ("sns",
// "twilio"); "none" is the empty list.
func ParseSMSChannels(s string) (SMSChannels, error) {
	out := SMSChannels{}
	if strings.TrimSpace(s) == "none" {
		return out, nil
	}
	for c := range strings.SplitSeq(s, ",") {
		switch c = strings.TrimSpace(c); c {
		case "":
		case ChannelSNS, ChannelTwilio:
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		default:
			return nil, fmt.Errorf("SMS channels: %q is not sns or twilio", c)
		}
	}
	return out, nil
}

// checkPhoneChannel returns a KindInvalid error when the alert of req's
// spec is a text message on a channel that cs lacks. The problem names the
// field as req's shape spells it: phone in the GitHub seed, which has no
// channel field (the native shape has).
func (cs SMSChannels) checkPhoneChannel(op string, req StartRequest) error {
	a := req.Spec.Alert
	if cs == nil || a == nil || a.Phone == "" {
		return nil
	}
	ch := a.ChannelOf()
	if slices.Contains(cs, ch) {
		return nil
	}
	field, setChannel := "alert.phone", "set alert.channel to "
	if req.Shape == "seed-github" {
		field, setChannel = "phone", "send the native shape with alert.channel "
	}
	if a.Channel != "" {
		field = "alert.channel"
	}
	problem := "this deployment sends no text messages; alert by webhookUrl or topicArn instead"
	switch {
	case len(cs) > 0:
		problem = fmt.Sprintf("this deployment sends text messages through %s only, not %s: %s%s",
			strings.Join(cs, " and "), ch, setChannel, cs[0])
	case ch == ChannelSNS:
		problem = "this deployment sends no text messages (on AWS, deploy with -c allowDirectSms=true or a Twilio secret); " +
			"alert by webhookUrl or topicArn instead"
	}
	return &Error{Kind: KindInvalid, Op: op, Message: "invalid request", Fields: []FieldError{{Field: field, Problem: problem}}}
}
