// Package lambdaenv holds the Lambda functions' common main (Main) and
// reads the settings that several of them share from their environment:
// the logger, the SNS topics alerts may go to and which private addresses
// outbound requests may reach. Only the Lambda mains (and
// apienv, their wiring) use it.
package lambdaenv
