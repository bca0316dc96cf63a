// Stands in for LocalStack's ddb-local-loader-0.1.jar, a Java agent that LocalStack passes
// to DynamoDB Local (-javaagent) and would otherwise download from GitHub. Its only job is
// to lift DynamoDB Local's limit of 20 global secondary indexes per table; ticketlens' tables
// have 3, so an agent that does nothing keeps DynamoDB Local's own behaviour.
// `ticketlens localstack install` compiles it with javac (src/ticketlens/emulators/localstack.py).
public final class NoopAgent {
    private NoopAgent() {}

    public static void premain(String args, java.lang.instrument.Instrumentation instrumentation) {}
}
