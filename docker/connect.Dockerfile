# Kafka Connect with Debezium, plus the Oracle JDBC driver the Oracle connector needs
# (Debezium leaves it out for licensing; this is Debezium's documented way to add it,
# from Maven Central, checked against its MD5).
ARG DEBEZIUM_VERSION=3.6.1.Final
FROM quay.io/debezium/connect:${DEBEZIUM_VERSION}
ENV MAVEN_DEP_DESTINATION=$KAFKA_HOME/libs
RUN docker-maven-download central com/oracle/database/jdbc ojdbc11 23.26.1.0.0 \
    c0d07c69b0030f2f661a6c749919467f
