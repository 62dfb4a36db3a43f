package monitor

import "net/url"

// checkHosts returns a KindInvalid error naming each of req's target URL
// and webhook URL whose host a deployment's permit refuses (see
// API.PermitHost); nil when permit is nil.
func checkHosts(op string, req StartRequest, permit func(host string) error) error {
	if permit == nil {
		return nil
	}
	var v validator
	check := func(field, raw string) {
		if raw == "" || urlProblem(raw) != "" {
			return // reported as it is, or absent
		}
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		if err := permit(u.Hostname()); err != nil {
			v.add(field, err.Error())
		}
	}
	if req.Spec.Target.Type == TargetHTTP {
		check("target.url", req.Spec.Target.URL)
	}
	if a := req.Spec.Alert; a != nil {
		check("alert.webhookUrl", a.WebhookURL)
	}
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Op: op, Message: "invalid request", Fields: v.fields}
}
