package dev.metamorphosis.it;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Kafka topics a test sets up before the bridge starts, with topic configs, and an ACL that denies writes to one while
 * the bridge runs (on a broker started with {@link #AUTHORIZER}).
 */
public final class Topics {

    /**
     * Server properties of a broker that checks ACLs and allows whatever no ACL names: the tests' clients and the
     * bridge connect without a user (principal {@code User:ANONYMOUS}), so only an ACL a test adds denies anything.
     */
    public static final Map<String, String> AUTHORIZER = Map.of(
            "authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found", "true");

    private static final AccessControlEntry ALLOW_ALL = new AccessControlEntry("User:ANONYMOUS", "*",
            AclOperation.ALL, AclPermissionType.ALLOW);
    private static final AccessControlEntry DENY_WRITE = new AccessControlEntry("User:ANONYMOUS", "*",
            AclOperation.WRITE, AclPermissionType.DENY);

    private Topics() {
    }

    /** Creates a topic of one partition, replication factor 1, with these topic configs. */
    public static void create(String bootstrap, String topic, Map<String, String> configs) {
        try (Admin admin = admin(bootstrap)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(configs))).all()
                    .get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("topic " + topic + " not created", e);
        }
    }

    /**
     * Denies every write to the topic: the producer gets TopicAuthorizationException. Everything else stays allowed
     * (once an ACL names the topic, only what an ACL allows is allowed; a deny wins over an allow).
     */
    public static void denyWrites(String bootstrap, String topic) {
        ResourcePattern pattern = new ResourcePattern(ResourceType.TOPIC, topic, PatternType.LITERAL);
        try (Admin admin = admin(bootstrap)) {
            admin.createAcls(List.of(new AclBinding(pattern, ALLOW_ALL), new AclBinding(pattern, DENY_WRITE))).all()
                    .get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("writes to topic " + topic + " not denied", e);
        }
    }

    /** Takes the ACL of {@link #denyWrites} away. */
    public static void allowWrites(String bootstrap, String topic) {
        try (Admin admin = admin(bootstrap)) {
            Collection<AclBinding> deleted = admin.deleteAcls(List.of(new AclBindingFilter(new ResourcePatternFilter(
                    ResourceType.TOPIC, topic, PatternType.LITERAL), DENY_WRITE.toFilter()))).all()
                    .get(60, TimeUnit.SECONDS);
            if (deleted.size() != 1) {
                throw new IllegalStateException("no ACL denied writes to " + topic);
            }
        } catch (Exception e) {
            throw new IllegalStateException("writes to topic " + topic + " not allowed again", e);
        }
    }

    private static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(p);
    }
}
