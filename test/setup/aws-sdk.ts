// The AWS SDK warns once per process that its releases after the first week of January 2027
// need Node 22 (@aws-sdk/core's emitWarningIfUnsupportedVersion): true, said in the README, and
// in a test run one copy per worker and child floods the output. This is the SDK's own switch;
// set for the tests only (the library never sets it for its users). Children inherit it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
