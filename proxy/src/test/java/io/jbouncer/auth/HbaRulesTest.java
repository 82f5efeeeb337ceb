package io.jbouncer.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.auth.HbaConnection.Kind;
import io.jbouncer.config.ConfigError;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HbaRulesTest {
  private static final HbaConnection LOCAL = new HbaConnection(Kind.LOCAL, null);

  @TempDir Path dir;

  private static HbaConnection tcp(String ip) {
    return new HbaConnection(Kind.HOST, literal(ip));
  }

  private static HbaConnection tls(String ip) {
    return new HbaConnection(Kind.HOST_SSL, literal(ip));
  }

  private static InetAddress literal(String ip) {
    try {
      return InetAddress.getByName(ip); // a literal: no lookup
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private HbaRules rules(String text) {
    return HbaRules.parse(text, dir.resolve("pg_hba.conf").toString());
  }

  private @Nullable Integer line(HbaRules rules, HbaConnection c, String db, String user) {
    HbaRule rule = rules.match(c, db, user);
    return rule == null ? null : rule.line();
  }

  private void assertError(String text, String message) {
    assertThatThrownBy(() -> HbaRules.parse(text, "pg_hba.conf"))
        .isInstanceOf(ConfigError.class)
        .hasMessage(message);
  }

  private void write(String name, String text) throws IOException {
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
  }

  // --- record types -----------------------------------------------------------------------

  @Test
  void eachRecordTypeAgainstEachConnectionKind() {
    HbaRules local = rules("local all all trust");
    HbaRules host = rules("host all all all trust");
    HbaRules hostssl = rules("hostssl all all all trust");
    HbaRules hostnossl = rules("hostnossl all all all trust");

    assertThat(local.match(LOCAL, "db", "u")).isNotNull();
    assertThat(local.match(tcp("10.0.0.1"), "db", "u")).isNull();
    assertThat(local.match(tls("10.0.0.1"), "db", "u")).isNull();

    assertThat(host.match(LOCAL, "db", "u")).isNull();
    assertThat(host.match(tcp("10.0.0.1"), "db", "u")).isNotNull();
    assertThat(host.match(tls("10.0.0.1"), "db", "u")).isNotNull();

    assertThat(hostssl.match(LOCAL, "db", "u")).isNull();
    assertThat(hostssl.match(tcp("10.0.0.1"), "db", "u")).isNull();
    assertThat(hostssl.match(tls("10.0.0.1"), "db", "u")).isNotNull();

    assertThat(hostnossl.match(LOCAL, "db", "u")).isNull();
    assertThat(hostnossl.match(tcp("10.0.0.1"), "db", "u")).isNotNull();
    assertThat(hostnossl.match(tls("10.0.0.1"), "db", "u")).isNull();
  }

  @Test
  void ruleComponents() {
    HbaRule rule =
        rules("\n# comment\nhostssl  app,\"My DB\"\tbob 10.0.0.0/8 scram-sha-256\n").rules().get(0);
    assertThat(rule.line()).isEqualTo(3);
    assertThat(rule.type()).isEqualTo(HbaRule.Type.HOST_SSL);
    assertThat(rule.databases().names()).containsExactlyInAnyOrder("app", "My DB");
    assertThat(rule.databases().all()).isFalse();
    assertThat(rule.users().names()).containsExactly("bob");
    assertThat(rule.address()).hasToString("10.0.0.0/8");
    assertThat(rule.method()).isEqualTo(HbaMethod.SCRAM_SHA_256);
    assertThat(rule.options()).isEmpty();
  }

  // --- database and user fields ---------------------------------------------------------------

  @Test
  void databaseKeywords() {
    HbaRules rules =
        rules(
            """
            local all     alice trust
            local sameuser bob  trust
            local "all"   carol trust
            local "sameuser" dave trust
            local a,b , c eve trust
            """);
    assertThat(line(rules, LOCAL, "anything", "alice")).isEqualTo(1);
    assertThat(line(rules, LOCAL, "bob", "bob")).isEqualTo(2);
    assertThat(line(rules, LOCAL, "other", "bob")).isNull();
    assertThat(line(rules, LOCAL, "all", "carol")).isEqualTo(3);
    assertThat(line(rules, LOCAL, "db", "carol")).isNull();
    assertThat(line(rules, LOCAL, "sameuser", "dave")).isEqualTo(4);
    assertThat(line(rules, LOCAL, "dave", "dave")).isNull();
    assertThat(line(rules, LOCAL, "a", "eve")).isEqualTo(5);
    assertThat(line(rules, LOCAL, "b", "eve")).isEqualTo(5);
    assertThat(line(rules, LOCAL, "c", "eve")).isEqualTo(5);
    assertThat(line(rules, LOCAL, "d", "eve")).isNull();
  }

  @Test
  void replicationMatchesOnlyPhysicalReplicationConnections() {
    HbaRules rules =
        rules(
            """
            host replication   repl all md5
            host all           all  all trust
            host "replication" all  all password
            """);
    HbaConnection physical = new HbaConnection(Kind.HOST, literal("10.0.0.1"), true);
    assertThat(line(rules, physical, "postgres", "repl")).isEqualTo(1);
    // "all" does not cover physical replication, and a quoted replication is a name
    assertThat(line(rules, physical, "postgres", "app")).isNull();
    // ordinary and logical replication connections: the keyword matches no database
    assertThat(line(rules, tcp("10.0.0.1"), "replication", "repl")).isEqualTo(2);
    HbaRules onlyReplication =
        rules("host replication all all md5\nhost \"replication\" all all trust");
    assertThat(line(onlyReplication, tcp("10.0.0.1"), "replication", "u")).isEqualTo(2);
    assertThat(line(onlyReplication, tcp("10.0.0.1"), "db", "u")).isNull();
  }

  @Test
  void userField() {
    HbaRules rules =
        rules(
            """
            local all all         md5
            """);
    assertThat(line(rules, LOCAL, "db", "anyone")).isEqualTo(1);
    rules =
        rules(
            """
            local all alice,"Bob Smith" md5
            local all "all"             trust
            local all sameuser          password
            local all "+admins"         reject
            """);
    assertThat(line(rules, LOCAL, "db", "alice")).isEqualTo(1);
    assertThat(line(rules, LOCAL, "db", "Bob Smith")).isEqualTo(1);
    assertThat(line(rules, LOCAL, "db", "all")).isEqualTo(2);
    // sameuser is a database keyword; in the user field it is a name, as in PostgreSQL
    assertThat(line(rules, LOCAL, "sameuser", "sameuser")).isEqualTo(3);
    assertThat(line(rules, LOCAL, "carol", "carol")).isNull();
    assertThat(line(rules, LOCAL, "db", "+admins")).isEqualTo(4);
  }

  @Test
  void quotingDetails() {
    HbaRules rules = rules("local \"a \"\"quoted\"\" db\",\"x,y\",\"#not a comment\" \"\" trust");
    HbaRule rule = rules.rules().get(0);
    assertThat(rule.databases().names())
        .containsExactlyInAnyOrder("a \"quoted\" db", "x,y", "#not a comment");
    assertThat(rule.users().names()).containsExactly("");
    // a token may mix quoted and unquoted parts
    assertThat(rules("local pre\"fix suf\"fix all trust").rules().get(0).databases().names())
        .containsExactly("prefix suffix");
  }

  @Test
  void atFileNamesRelativeToTheHbaFile() throws IOException {
    write(
        "dbs.txt",
        """
        # databases for the app
        app1, app2
        app3\tapp4 # trailing comment
        "quoted db"
        """);
    write("sub/users.txt", "alice bob\n@more.txt\n");
    write("sub/more.txt", "carol\n");
    HbaRules rules =
        rules(
            """
            local @dbs.txt @sub/users.txt md5
            local other,@dbs.txt dave trust
            """);
    for (String db : new String[] {"app1", "app2", "app3", "app4", "quoted db"}) {
      assertThat(line(rules, LOCAL, db, "alice")).as(db).isEqualTo(1);
    }
    assertThat(line(rules, LOCAL, "app1", "carol")).isEqualTo(1);
    assertThat(line(rules, LOCAL, "app5", "alice")).isNull();
    assertThat(line(rules, LOCAL, "other", "dave")).isEqualTo(2);
    assertThat(line(rules, LOCAL, "app2", "dave")).isEqualTo(2);
    assertThat(rules.rules().get(0)).hasToString("hba line 1: local @dbs.txt @sub/users.txt md5");
  }

  @Test
  void atFileKeywordsAndAbsolutePath() throws IOException {
    write("kw.txt", "sameuser\n");
    write("everyone.txt", "all\n");
    Path absolute = dir.resolve("everyone.txt").toAbsolutePath();
    HbaRules rules = rules("local @kw.txt @" + absolute + " trust\nlocal \"@kw.txt\" all md5");
    assertThat(line(rules, LOCAL, "bob", "bob")).isEqualTo(1);
    assertThat(line(rules, LOCAL, "db", "bob")).isNull();
    assertThat(line(rules, LOCAL, "@kw.txt", "bob")).isEqualTo(2);
  }

  // --- addresses ------------------------------------------------------------------------------

  @Test
  void ipv4Cidr() {
    HbaRules rules =
        rules(
            """
            host all a 10.0.0.0/8      trust
            host all b 192.168.1.7/32  trust
            host all c 0.0.0.0/0       trust
            host all d 192.168.1.0/31  trust
            host all e 172.16.0.0 255.240.0.0 trust
            host all f all trust
            """);
    assertThat(line(rules, tcp("10.0.0.0"), "db", "a")).isEqualTo(1);
    assertThat(line(rules, tcp("10.255.255.255"), "db", "a")).isEqualTo(1);
    assertThat(line(rules, tcp("11.0.0.0"), "db", "a")).isNull();
    assertThat(line(rules, tcp("9.255.255.255"), "db", "a")).isNull();
    assertThat(line(rules, tcp("192.168.1.7"), "db", "b")).isEqualTo(2);
    assertThat(line(rules, tcp("192.168.1.6"), "db", "b")).isNull();
    assertThat(line(rules, tcp("1.2.3.4"), "db", "c")).isEqualTo(3);
    assertThat(line(rules, tcp("255.255.255.255"), "db", "c")).isEqualTo(3);
    assertThat(line(rules, tcp("::1"), "db", "c")).isNull();
    assertThat(line(rules, tcp("192.168.1.0"), "db", "d")).isEqualTo(4);
    assertThat(line(rules, tcp("192.168.1.1"), "db", "d")).isEqualTo(4);
    assertThat(line(rules, tcp("192.168.1.2"), "db", "d")).isNull();
    assertThat(line(rules, tcp("172.31.255.1"), "db", "e")).isEqualTo(5);
    assertThat(line(rules, tcp("172.32.0.1"), "db", "e")).isNull();
    assertThat(line(rules, tcp("8.8.8.8"), "db", "f")).isEqualTo(6);
    assertThat(line(rules, tcp("2001:db8::1"), "db", "f")).isEqualTo(6);
    assertThat(rules.rules().get(4).address()).hasToString("172.16.0.0 255.240.0.0");
  }

  @Test
  void ipv6Cidr() {
    HbaRules rules =
        rules(
            """
            host all a ::1/128        trust
            host all b ::/0           trust
            host all c 2001:db8::/32  trust
            host all d fe80::/10      trust
            host all e 2001:db8:: ffff:ffff:ffff:ffff:: trust
            """);
    assertThat(line(rules, tcp("::1"), "db", "a")).isEqualTo(1);
    assertThat(line(rules, tcp("::2"), "db", "a")).isNull();
    assertThat(line(rules, tcp("127.0.0.1"), "db", "a")).isNull();
    assertThat(line(rules, tcp("2001:db8::5"), "db", "b")).isEqualTo(2);
    // ::/0 is every IPv6 address, not IPv4 ones
    assertThat(line(rules, tcp("10.0.0.1"), "db", "b")).isNull();
    assertThat(line(rules, tcp("2001:db8:ffff:ffff::1"), "db", "c")).isEqualTo(3);
    assertThat(line(rules, tcp("2001:db9::1"), "db", "c")).isNull();
    assertThat(line(rules, tcp("febf::1"), "db", "d")).isEqualTo(4);
    assertThat(line(rules, tcp("fec0::1"), "db", "d")).isNull();
    assertThat(line(rules, tcp("2001:db8::abcd"), "db", "e")).isEqualTo(5);
    assertThat(line(rules, tcp("2001:db8:0:1::"), "db", "e")).isNull();
  }

  @Test
  void ipv4MappedAddressesCompareAsIpv4() throws UnknownHostException {
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    mapped[12] = 10;
    mapped[15] = 9;
    HbaConnection mappedClient =
        new HbaConnection(Kind.HOST, Inet6Address.getByAddress(null, mapped, -1));
    HbaRules rules =
        rules(
            """
            host all a 10.0.0.0/8           trust
            host all b ::ffff:10.0.0.0/104  trust
            host all c ::ffff:10.0.0.0 ffff:ffff:ffff:ffff:ffff:ffff:ff00:0 trust
            host all d ::/0 trust
            """);
    assertThat(line(rules, mappedClient, "db", "a")).isEqualTo(1);
    assertThat(line(rules, tcp("10.0.0.9"), "db", "b")).isEqualTo(2);
    assertThat(line(rules, mappedClient, "db", "b")).isEqualTo(2);
    assertThat(line(rules, tcp("11.0.0.9"), "db", "b")).isNull();
    assertThat(line(rules, tcp("10.1.2.3"), "db", "c")).isEqualTo(3);
    assertThat(line(rules, mappedClient, "db", "d")).isNull();
  }

  // --- matching order -------------------------------------------------------------------------

  @Test
  void firstMatchWinsAndNoMatchIsNull() {
    HbaRules rules =
        rules(
            """
            host    all  admin  10.0.0.0/8  reject
            hostssl all  all    10.0.0.0/8  cert
            host    all  all    10.0.0.0/8  scram-sha-256
            host    all  all    all         md5
            """);
    assertThat(rules.match(tls("10.1.1.1"), "db", "admin").method()).isEqualTo(HbaMethod.REJECT);
    assertThat(rules.match(tls("10.1.1.1"), "db", "app").method()).isEqualTo(HbaMethod.CERT);
    assertThat(rules.match(tcp("10.1.1.1"), "db", "app").method())
        .isEqualTo(HbaMethod.SCRAM_SHA_256);
    assertThat(rules.match(tcp("192.0.2.1"), "db", "admin").method()).isEqualTo(HbaMethod.MD5);
    assertThat(rules.match(LOCAL, "db", "admin")).isNull();
    assertThat(rules("").match(tcp("10.0.0.1"), "db", "u")).isNull();
    assertThat(rules("# only comments\n\n   \n").rules()).isEmpty();
  }

  // --- methods and options --------------------------------------------------------------------

  @Test
  void everyMethod() {
    for (HbaMethod method : HbaMethod.values()) {
      assertThat(rules("local all all " + method.hbaName()).rules().get(0).method())
          .isEqualTo(method);
    }
    assertThat(HbaMethod.MD5.supportedByJbouncer()).isTrue();
    assertThat(HbaMethod.LDAP.supportedByJbouncer()).isFalse();
    assertThat(HbaMethod.PEER.supportedByJbouncer()).isFalse();
  }

  @Test
  void mapAndLdapOptions() {
    HbaRules rules =
        rules(
            """
            local   all all peer map=local_users
            hostssl all all all cert map=certmap
            host    all all all ldap ldapserver=ldap.example.net ldapbasedn="dc=example, dc=net" ldapsearchattribute=uid
            """);
    assertThat(rules.rules().get(0).options()).isEqualTo(Map.of("map", "local_users"));
    assertThat(rules.rules().get(1).options()).isEqualTo(Map.of("map", "certmap"));
    assertThat(rules.rules().get(2).options())
        .containsExactly(
            Map.entry("ldapserver", "ldap.example.net"),
            Map.entry("ldapbasedn", "dc=example, dc=net"),
            Map.entry("ldapsearchattribute", "uid"));
    assertThat(rules.rules().get(2))
        .hasToString(
            "hba line 3: host all all all ldap ldapserver=ldap.example.net"
                + " ldapbasedn=\"dc=example, dc=net\" ldapsearchattribute=uid");
  }

  @Test
  void toStringForLogs() {
    HbaRules rules =
        rules(
            """
            host all all 10.0.0.0/8 md5
            local   sameuser   all   peer   map=m   # comment
            hostnossl app,"My DB" bob 192.168.0.0 255.255.0.0 trust
            """);
    assertThat(rules.rules().get(0)).hasToString("hba line 1: host all all 10.0.0.0/8 md5");
    assertThat(rules.rules().get(1)).hasToString("hba line 2: local sameuser all peer map=m");
    assertThat(rules.rules().get(2))
        .hasToString("hba line 3: hostnossl app,\"My DB\" bob 192.168.0.0 255.255.0.0 trust");
  }

  @Test
  void byteOrderMarkAndCrLf() {
    HbaRules rules = rules("\uFEFFlocal all all trust\r\nhost all all all md5\r\n");
    assertThat(rules.rules()).hasSize(2);
    assertThat(rules.rules().get(1).method()).isEqualTo(HbaMethod.MD5);
  }

  // --- errors ---------------------------------------------------------------------------------

  @Test
  void unknownRecordTypes() {
    assertError(
        "\nhostgssenc all all all trust",
        "pg_hba.conf:2: unknown connection type \"hostgssenc\""
            + " (expected: local, host, hostssl or hostnossl)");
    assertError(
        "hostnogssenc all all all trust",
        "pg_hba.conf:1: unknown connection type \"hostnogssenc\""
            + " (expected: local, host, hostssl or hostnossl)");
    assertError(
        "\"host\" all all all trust",
        "pg_hba.conf:1: unknown connection type \"\"host\"\""
            + " (expected: local, host, hostssl or hostnossl)");
  }

  @Test
  void missingFields() {
    assertError(
        "local",
        "pg_hba.conf:1: missing DATABASE (expected: local DATABASE USER METHOD [OPTIONS])");
    assertError(
        "local all",
        "pg_hba.conf:1: missing USER (expected: local DATABASE USER METHOD [OPTIONS])");
    assertError(
        "local all all",
        "pg_hba.conf:1: missing METHOD (expected: local DATABASE USER METHOD [OPTIONS])");
    assertError(
        "hostssl all all # no address",
        "pg_hba.conf:1: missing ADDRESS"
            + " (expected: hostssl DATABASE USER ADDRESS METHOD [OPTIONS])");
    assertError(
        "host all all 10.0.0.0/8",
        "pg_hba.conf:1: missing METHOD (expected: host DATABASE USER ADDRESS METHOD [OPTIONS])");
  }

  @Test
  void badAddresses() {
    String expected =
        " (expected: all, an IP address with /bits, or an IP address and a netmask;"
            + " host names, samehost and samenet are not supported)";
    assertError(
        "host all all db.example.com md5",
        "pg_hba.conf:1: invalid address \"db.example.com\"" + expected);
    assertError(
        "host all all samehost md5", "pg_hba.conf:1: invalid address \"samehost\"" + expected);
    assertError(
        "host all all samenet md5", "pg_hba.conf:1: invalid address \"samenet\"" + expected);
    assertError(
        "host all all 10.0.0.256/32 md5",
        "pg_hba.conf:1: invalid address \"10.0.0.256/32\"" + expected);
    assertError(
        "host all all 10.0.0/24 md5", "pg_hba.conf:1: invalid address \"10.0.0/24\"" + expected);
    assertError(
        "host all all 010.0.0.1/32 md5",
        "pg_hba.conf:1: invalid address \"010.0.0.1/32\"" + expected);
    assertError(
        "host all all fe80::1%eth0/128 md5",
        "pg_hba.conf:1: invalid address \"fe80::1%eth0/128\"" + expected);
    assertError(
        "host all all 10.0.0.0,10.1.0.0 md5",
        "pg_hba.conf:1: invalid address \"10.0.0.0,10.1.0.0\""
            + " (expected: all, an IP address with /bits, or an IP address and a netmask)");
  }

  @Test
  void badMasks() {
    assertError(
        "host all all 10.0.0.0/33 md5",
        "pg_hba.conf:1: invalid prefix length \"33\" in 10.0.0.0/33 (expected: 0..32)");
    assertError(
        "host all all ::/129 md5",
        "pg_hba.conf:1: invalid prefix length \"129\" in ::/129 (expected: 0..128)");
    assertError(
        "host all all 10.0.0.0/ md5",
        "pg_hba.conf:1: invalid prefix length \"\" in 10.0.0.0/ (expected: 0..32)");
    assertError(
        "host all all 10.0.0.0/x8 md5",
        "pg_hba.conf:1: invalid prefix length \"x8\" in 10.0.0.0/x8 (expected: 0..32)");
    assertError(
        "host all all 10.0.0.1 md5",
        "pg_hba.conf:1: invalid netmask \"md5\" after 10.0.0.1 (expected: a netmask column like"
            + " 10.0.0.1 255.255.255.255, or 10.0.0.1/32)");
    assertError(
        "host all all ::1 255.255.255.255 md5",
        "pg_hba.conf:1: invalid netmask \"255.255.255.255\" after ::1 (expected: a netmask column"
            + " like ::1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, or ::1/128)");
    assertError(
        "host all all 10.0.0.1",
        "pg_hba.conf:1: missing netmask after 10.0.0.1 (expected: a netmask column like"
            + " 10.0.0.1 255.255.255.255, or 10.0.0.1/32)");
    assertError(
        "host all all 10.0.0.1/8 md5",
        "pg_hba.conf:1: 10.0.0.1/8: the address has bits set outside the mask"
            + " (expected: 10.0.0.0/8)");
    assertError(
        "host all all 10.1.0.0 255.0.0.0 md5",
        "pg_hba.conf:1: 10.1.0.0 255.0.0.0: the address has bits set outside the mask"
            + " (expected: 10.0.0.0 255.0.0.0)");
    assertError(
        "host all all 2001:db8::1/32 md5",
        "pg_hba.conf:1: 2001:db8::1/32: the address has bits set outside the mask"
            + " (expected: 2001:db8::/32)");
  }

  @Test
  void badMethods() {
    String expected =
        " (expected: trust, reject, md5, password, scram-sha-256, cert, peer or ldap)";
    for (String method : new String[] {"ident", "pam", "gss", "sspi", "radius", "bsd", "MD5"}) {
      assertError(
          "local all all " + method,
          "pg_hba.conf:1: unsupported authentication method \"" + method + "\"" + expected);
    }
    assertError(
        "local all all \"md5\"",
        "pg_hba.conf:1: unsupported authentication method \"\"md5\"\"" + expected);
  }

  @Test
  void badOptions() {
    assertError(
        "host all all all md5 map=x",
        "pg_hba.conf:1: unexpected \"map=x\" after md5 (expected: end of line;"
            + " only cert and peer take map=NAME, only ldap takes other options)");
    assertError(
        "local all all trust extra",
        "pg_hba.conf:1: unexpected \"extra\" after trust (expected: end of line;"
            + " only cert and peer take map=NAME, only ldap takes other options)");
    assertError(
        "hostssl all all all cert clientname=DN",
        "pg_hba.conf:1: unsupported option \"clientname\" for cert"
            + " (expected: map=NAME, a map of auth_ident_file)");
    assertError(
        "local all all peer mymap",
        "pg_hba.conf:1: invalid option \"mymap\" (expected: name=value)");
    assertError(
        "local all all peer =x", "pg_hba.conf:1: invalid option \"=x\" (expected: name=value)");
    assertError(
        "local all all peer map=", "pg_hba.conf:1: option map has no value (expected: map=value)");
    assertError(
        "local all all peer map=a map=b",
        "pg_hba.conf:1: duplicate option map (expected: each option once)");
    assertError(
        "host all all all ldap ldaphost=x",
        "pg_hba.conf:1: unknown ldap option \"ldaphost\" (expected: one of ldapbasedn,"
            + " ldapbinddn, ldapbindpasswd, ldapport, ldapprefix, ldapscheme,"
            + " ldapsearchattribute, ldapsearchfilter, ldapserver, ldapsuffix, ldaptls, ldapurl)");
  }

  @Test
  void badNames() {
    assertError(
        "local samerole all md5",
        "pg_hba.conf:1: samerole is not supported: the pooler does not know role membership"
            + " (expected: all, sameuser, replication, database names or @file)");
    assertError(
        "local samegroup all md5",
        "pg_hba.conf:1: samegroup is not supported: the pooler does not know role membership"
            + " (expected: all, sameuser, replication, database names or @file)");
    assertError(
        "local all +admins md5",
        "pg_hba.conf:1: +admins: role membership (+role) is not supported"
            + " (expected: all, user names or @file; quote a name that starts with +)");
    assertError(
        "local +db all md5",
        "pg_hba.conf:1: +db: role membership (+role) is not supported"
            + " (expected: all, sameuser, replication, database names or @file;"
            + " quote a name that starts with +)");
    assertError(
        "local a,,b all md5", "pg_hba.conf:1: empty entry in list a, (expected: name[,name...])");
    // blanks after a comma continue the list: "a, all" is one field, so md5 is the user
    assertError(
        "local a, all md5",
        "pg_hba.conf:1: missing METHOD (expected: local DATABASE USER METHOD [OPTIONS])");
    assertError("local a,", "pg_hba.conf:1: empty entry in list a, (expected: name[,name...])");
    assertError(
        "local \"unterminated all md5",
        "pg_hba.conf:1: unterminated quoted string \"unterminated all md5 (expected: a closing \")");
    assertError("local @ all md5", "pg_hba.conf:1: missing file name after @ (expected: @file)");
  }

  @Test
  void lineContinuationIsRefused() {
    assertError(
        "host all all 10.0.0.0/8 \\\n  md5",
        "pg_hba.conf:1: line continuation with a trailing backslash is not supported"
            + " (expected: one record per line, as PgBouncer reads it)");
  }

  @Test
  void atFileErrors() throws IOException {
    Path hba = dir.resolve("pg_hba.conf");
    write("bad.txt", "good\n\"unterminated\n");
    write("loop.txt", "@loop.txt\n");
    write("plus.txt", "+group\n");
    assertThatThrownBy(() -> HbaRules.parse("local all @missing.txt md5", hba.toString()))
        .isInstanceOf(ConfigError.class)
        .hasMessage(
            hba
                + ":1: @missing.txt: could not read "
                + dir.resolve("missing.txt").toAbsolutePath()
                + ": No such file");
    assertThatThrownBy(() -> HbaRules.parse("local @bad.txt all md5", hba.toString()))
        .isInstanceOf(ConfigError.class)
        .hasMessage(
            hba
                + ":1: @bad.txt line 2: unterminated quoted string \"unterminated"
                + " (expected: a closing \")");
    assertThatThrownBy(() -> HbaRules.parse("\nlocal @loop.txt all md5", hba.toString()))
        .isInstanceOf(ConfigError.class)
        .hasMessage(
            hba
                + ":2: @loop.txt line 1: @loop.txt: "
                + dir.resolve("loop.txt").toAbsolutePath()
                + " includes itself (expected: no @file cycle)");
    assertThatThrownBy(() -> HbaRules.parse("local all @plus.txt md5", hba.toString()))
        .isInstanceOf(ConfigError.class)
        .hasMessage(
            hba
                + ":1: @plus.txt line 1: +group: role membership (+role) is not supported"
                + " (expected: all, user names or @file; quote a name that starts with +)");
  }

  @Test
  void unreadableFile() {
    Path missing = dir.resolve("nope.conf");
    assertThatThrownBy(() -> HbaRules.load(missing))
        .isInstanceOf(ConfigError.class)
        .hasMessage("could not open auth_hba_file " + missing + ": No such file");
  }

  @Test
  void connectionRequiresAnAddressExactlyForTcp() {
    assertThatThrownBy(() -> new HbaConnection(Kind.HOST, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new HbaConnection(Kind.LOCAL, literal("127.0.0.1")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // --- a realistic file -----------------------------------------------------------------------

  @Test
  void realisticFile() throws IOException {
    write("admins.txt", "# pooler operators\npgbouncer_admin, dba\n");
    Path file = dir.resolve("pgbouncer_hba.conf");
    Files.writeString(
        file,
        """
        # TYPE     DATABASE        USER            ADDRESS                 METHOD
        # Unix socket: the OS user must be the database user
        local      all             @admins.txt                             peer map=ops
        local      all             all                                     scram-sha-256

        # Replication only from the standby, over TLS with a certificate
        hostssl    replication     replicator      192.0.2.10/32           cert

        # Nobody logs in as postgres over the network
        host       all             postgres        all                     reject

        # The application network: TLS with SCRAM, or plain md5 inside the rack
        hostssl    app,reports     app             10.20.0.0/16            scram-sha-256
        hostnossl  app             app             10.20.30.0 255.255.255.0 md5
        host       sameuser        all             ::1/128                 trust
        host       sameuser        all             127.0.0.1/32            trust

        # Everything else is refused (also the default)
        host       all             all             0.0.0.0/0               reject
        host       all             all             ::/0                    reject
        """);
    HbaRules rules = HbaRules.load(file);
    assertThat(rules.rules()).hasSize(10);

    assertThat(rules.match(LOCAL, "app", "dba"))
        .hasToString("hba line 3: local all @admins.txt peer map=ops");
    assertThat(rules.match(LOCAL, "app", "app").method()).isEqualTo(HbaMethod.SCRAM_SHA_256);
    HbaConnection standby = new HbaConnection(Kind.HOST_SSL, literal("192.0.2.10"), true);
    assertThat(rules.match(standby, "replication", "replicator").line()).isEqualTo(7);
    HbaConnection otherStandby = new HbaConnection(Kind.HOST_SSL, literal("192.0.2.11"), true);
    assertThat(rules.match(otherStandby, "replication", "replicator")).isNull();
    assertThat(rules.match(tls("10.20.1.1"), "postgres", "postgres").method())
        .isEqualTo(HbaMethod.REJECT);
    assertThat(rules.match(tls("10.20.1.1"), "reports", "app").line()).isEqualTo(13);
    assertThat(rules.match(tcp("10.20.30.40"), "app", "app").line()).isEqualTo(14);
    assertThat(rules.match(tcp("10.20.31.40"), "app", "app").line()).isEqualTo(19);
    assertThat(rules.match(tcp("127.0.0.1"), "alice", "alice").method()).isEqualTo(HbaMethod.TRUST);
    assertThat(rules.match(tcp("::1"), "alice", "alice").line()).isEqualTo(15);
    assertThat(rules.match(tcp("::1"), "app", "alice").line()).isEqualTo(20);
  }
}
