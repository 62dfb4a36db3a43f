// Package lambdaenv holds the Lambda functions' common main (Main) and
// reads the settings that several of them share from their environment:
// the logger, the SNS topics alerts may go to and which private addresses
// outbound requests may reach. It also bounds the attempts of their AWS
// SDK calls (AWSHTTPClient). Only the Lambda mains (and
// apienv, their wiring) use it.
package lambdaenv
