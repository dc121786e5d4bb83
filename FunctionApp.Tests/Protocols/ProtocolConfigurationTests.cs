using FunctionApp.Hosting;
using Microsoft.Extensions.Configuration;

namespace FunctionApp.Tests.Protocols;

public class ProtocolConfigurationTests
{
    private static IConfiguration InMemory(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    [Fact]
    public void Defaults_apply_when_nothing_is_configured()
    {
        var (options, warnings) = ProtocolConfiguration.Read(InMemory(new() { [AppSettingNames.CallbacksAllowUnsigned] = "true" }));
        Assert.Empty(options.Tencent.Apps);
        Assert.Equal(30, options.Tencent.MaxClockSkewSeconds);
        Assert.Equal("openim", options.OpenIm.AppId);
        Assert.Null(options.OpenIm.CallbackKey);
        Assert.Equal(1024 * 1024, options.Limits.MaxBodyBytes);
        Assert.Equal(1000, options.Limits.MaxPairs);
        Assert.Equal(128, options.Limits.MaxUserIdLength);
        Assert.Equal(192 * 1024, options.Limits.MaxMessageBytes);
        Assert.Contains(warnings, w => w.Contains("No Tencent app", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("OpenIm:CallbackKey", StringComparison.Ordinal));
    }

    [Fact]
    public void Reads_every_setting_by_its_shared_name()
    {
        var (options, warnings) = ProtocolConfiguration.Read(InMemory(new()
        {
            [$"{AppSettingNames.TencentApps}:1400000001:{AppSettingNames.TencentCallbackTokenKey}"] = "tencent-token-0001",
            [$"{AppSettingNames.TencentApps}:1400000002:{AppSettingNames.TencentCallbackTokenKey}"] = "tencent-token-0002",
            [AppSettingNames.TencentMaxClockSkewSeconds] = "120",
            [AppSettingNames.OpenImAppId] = "tenant-a",
            [AppSettingNames.OpenImCallbackKey] = "openim-key-0123456789",
            [AppSettingNames.CallbacksMaxBodyBytes] = "2048",
            [AppSettingNames.CallbacksMaxPairs] = "10",
        }));
        Assert.Equal(new Dictionary<string, string> { ["1400000001"] = "tencent-token-0001", ["1400000002"] = "tencent-token-0002" }, options.Tencent.Apps);
        Assert.Equal(120, options.Tencent.MaxClockSkewSeconds);
        Assert.Equal(("tenant-a", "openim-key-0123456789"), (options.OpenIm.AppId, options.OpenIm.CallbackKey));
        Assert.Equal((2048, 10), (options.Limits.MaxBodyBytes, options.Limits.MaxPairs));
        Assert.Empty(warnings);
    }

    [Fact]
    public void An_app_without_a_token_stops_startup_unless_unsigned_callbacks_are_allowed()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Tencent:Apps:1400000003:CallbackToken"] = "",
            ["OpenIm:CallbackKey"] = "openim-key-0123456789",
        };
        var refused = Assert.Throws<InvalidOperationException>(() => ProtocolConfiguration.Read(InMemory(settings)));
        Assert.Contains("Tencent:Apps:1400000003:CallbackToken", refused.Message, StringComparison.Ordinal);
        Assert.Contains(AppSettingNames.CallbacksAllowUnsigned, refused.Message, StringComparison.Ordinal);

        settings[AppSettingNames.CallbacksAllowUnsigned] = "true";
        var (options, warnings) = ProtocolConfiguration.Read(InMemory(settings));
        Assert.Equal("", options.Tencent.Apps["1400000003"]);
        Assert.Contains(warnings, w => w.Contains("1400000003", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains(AppSettingNames.CallbacksAllowUnsigned, StringComparison.Ordinal));
    }

    [Fact]
    public void No_openim_key_stops_startup_unless_unsigned_callbacks_are_allowed()
    {
        var settings = new Dictionary<string, string?> { ["Tencent:Apps:1400000001:CallbackToken"] = "tencent-token-0123456789" };
        var refused = Assert.Throws<InvalidOperationException>(() => ProtocolConfiguration.Read(InMemory(settings)));
        Assert.Contains(AppSettingNames.OpenImCallbackKey, refused.Message, StringComparison.Ordinal);
        Assert.Contains(AppSettingNames.CallbacksAllowUnsigned, refused.Message, StringComparison.Ordinal);

        settings[AppSettingNames.CallbacksAllowUnsigned] = "false";
        Assert.Throws<InvalidOperationException>(() => ProtocolConfiguration.Read(InMemory(settings)));
        settings[AppSettingNames.CallbacksAllowUnsigned] = "yes please";
        Assert.Throws<InvalidOperationException>(() => ProtocolConfiguration.Read(InMemory(settings)));
        settings[AppSettingNames.CallbacksAllowUnsigned] = "True";
        Assert.Null(ProtocolConfiguration.Read(InMemory(settings)).Options.OpenIm.CallbackKey);
    }

    [Fact]
    public void Reads_the_environment_variable_spelling()
    {
        var prefix = $"RC_PROTOCOL_TEST_{Guid.NewGuid():N}_";
        var names = new[] { prefix + "Tencent__Apps__1400000001__CallbackToken", prefix + "OpenIm__CallbackKey", prefix + "Callbacks__MaxPairs" };
        try
        {
            Environment.SetEnvironmentVariable(names[0], "env-tencent-token-0001");
            Environment.SetEnvironmentVariable(names[1], "env-openim-key-0001");
            Environment.SetEnvironmentVariable(names[2], "7");
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables(prefix).Build();

            var (options, warnings) = ProtocolConfiguration.Read(configuration);
            Assert.Equal("env-tencent-token-0001", options.Tencent.Apps["1400000001"]);
            Assert.Equal("env-openim-key-0001", options.OpenIm.CallbackKey);
            Assert.Equal(7, options.Limits.MaxPairs);
            Assert.Empty(warnings);
        }
        finally
        {
            foreach (var name in names)
            {
                Environment.SetEnvironmentVariable(name, null);
            }
        }
    }

    [Theory]
    [InlineData("Callbacks:MaxBodyBytes", "lots")]
    [InlineData("Callbacks:MaxPairs", "0")]
    [InlineData("Tencent:MaxClockSkewSeconds", "-5")]
    [InlineData("OpenIm:CallbackKey", "a/b-0123456789abcdef")]
    [InlineData("OpenIm:CallbackKey", "short-key")]
    [InlineData("Tencent:Apps:1400000001:CallbackToken", "short-token")]
    public void A_malformed_setting_fails_with_its_name(string name, string value)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => ProtocolConfiguration.Read(InMemory(new()
        {
            [name] = value,
            [AppSettingNames.CallbacksAllowUnsigned] = "true",
        })));
        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
    }
}
