// Package faketwilio is an in-process Twilio Messages API for tests,
// answering the way api.twilio.com does.
//
// It serves POST /2010-04-01/Accounts/{AccountSid}/Messages.json (basic
// auth with the account SID and auth token, or an API key SID and secret;
// form fields To, From or MessagingServiceSid, Body), GET
// .../Messages/{Sid}.json and GET .../Messages.json, with Twilio's error
// bodies ({"code", "message", "more_info", "status"}) and codes: 20003
// authentication failed, 20404 not found, 21211 invalid To, 21602 missing
// Body, 21603 missing From, 21617 body too long.
//
// Faults are injected with Server.Intercept.
package faketwilio
