using Azure.Core;
using Azure.Identity;
using FunctionApp.Hosting;
using FunctionApp.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionApp.Tests.Storage;

public class StorageClientsSettingsTests
{
    private const string Setting = AppSettingNames.RelationshipStorage;

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public void A_connection_string_gives_both_services_at_its_endpoints()
    {
        var clients = StorageClients.FromConfiguration(Configuration((Setting, "UseDevelopmentStorage=true")));
        Assert.Equal(new Uri("http://127.0.0.1:10002/devstoreaccount1"), clients.GetTableServiceClient().Uri);
        Assert.Equal(new Uri("http://127.0.0.1:10001/devstoreaccount1"), clients.GetQueueServiceClient().Uri);
        Assert.Equal("devstoreaccount1", clients.GetTableServiceClient().AccountName);
    }

    [Fact]
    public void An_identity_section_gives_its_service_uris_or_those_of_the_account_name()
    {
        var clients = StorageClients.FromConfiguration(Configuration(
            ($"{Setting}:tableServiceUri", "https://relstore.table.core.windows.net/"),
            ($"{Setting}:queueServiceUri", "https://relstore.queue.core.windows.net"),
            ($"{Setting}:credential", "managedidentity"),
            ($"{Setting}:clientId", "00000000-0000-0000-0000-000000000001")));
        Assert.Equal(new Uri("https://relstore.table.core.windows.net"), clients.GetTableServiceClient().Uri);
        Assert.Equal(new Uri("https://relstore.queue.core.windows.net"), clients.GetQueueServiceClient().Uri);

        var byName = StorageClients.FromConfiguration(Configuration(($"{Setting}:accountName", "relstore")));
        Assert.Equal(new Uri("https://relstore.table.core.windows.net"), byName.GetTableServiceClient().Uri);
        Assert.Equal(new Uri("https://relstore.queue.core.windows.net"), byName.GetQueueServiceClient(StorageClientProfile.Acknowledgement).Uri);
    }

    [Theory]
    [InlineData("managedidentity", "00000000-0000-0000-0000-000000000001", typeof(ManagedIdentityCredential))]
    [InlineData("managedidentity", null, typeof(ManagedIdentityCredential))]
    [InlineData(null, "00000000-0000-0000-0000-000000000001", typeof(DefaultAzureCredential))]
    [InlineData(null, null, typeof(DefaultAzureCredential))]
    public void The_credential_keys_mean_what_they_mean_to_the_functions_host(string? credential, string? clientId, Type expected)
    {
        var values = new List<(string, string)> { ($"{Setting}:tableServiceUri", "https://relstore.table.core.windows.net") };
        if (credential is not null)
        {
            values.Add(($"{Setting}:credential", credential));
        }

        if (clientId is not null)
        {
            values.Add(($"{Setting}:clientId", clientId));
        }

        Assert.IsType(expected, StorageClients.FromConfiguration(Configuration([.. values])).Credential);
    }

    [Fact]
    public void Every_client_of_a_process_shares_one_credential_and_each_profile_has_one_client()
    {
        var clients = StorageClients.FromConfiguration(Configuration(($"{Setting}:accountName", "relstore")));
        Assert.Same(clients.GetTableServiceClient(), clients.GetTableServiceClient(StorageClientProfile.Apply));
        Assert.Same(clients.GetQueueServiceClient(StorageClientProfile.Acknowledgement), clients.GetQueueServiceClient(StorageClientProfile.Acknowledgement));
        Assert.NotSame(clients.GetTableServiceClient(StorageClientProfile.Apply), clients.GetTableServiceClient(StorageClientProfile.Acknowledgement));

        var services = new ServiceCollection();
        var configuration = Configuration(($"{Setting}:accountName", "relstore"));
        Assert.Same(ServiceCollectionExtensions.StorageClientsOf(services, configuration), ServiceCollectionExtensions.StorageClientsOf(services, configuration));
    }

    [Fact]
    public void The_acknowledgement_profile_gives_up_inside_the_enqueue_deadline_and_apply_retries_longer()
    {
        foreach (var options in new ClientOptions[] { StorageClients.CreateQueueOptions(StorageClientProfile.Acknowledgement), StorageClients.CreateTableOptions(StorageClientProfile.Acknowledgement) })
        {
            // Worst case: every attempt times out, with the longest waits between them.
            var worst = (options.Retry.NetworkTimeout * (options.Retry.MaxRetries + 1)) + (options.Retry.MaxDelay * options.Retry.MaxRetries);
            Assert.True(worst <= TimeSpan.FromSeconds(2), $"{worst}");
            Assert.True(options.Retry.NetworkTimeout < TimeSpan.FromSeconds(1));
        }

        var apply = StorageClients.CreateTableOptions(StorageClientProfile.Apply);
        Assert.True(apply.Retry.MaxRetries >= 3);
        var applyWorst = (apply.Retry.NetworkTimeout * (apply.Retry.MaxRetries + 1)) + (apply.Retry.MaxDelay * apply.Retry.MaxRetries);
        Assert.True(applyWorst < TimeSpan.FromMinutes(5), $"{applyWorst}"); // the trigger's functionTimeout
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("tableServiceUri", "http://relstore.table.core.windows.net")]
    [InlineData("queueServiceUri", "not a uri")]
    public void Missing_or_unusable_settings_name_the_setting(string? key, string? value)
    {
        var configuration = key is null ? Configuration() : Configuration(($"{Setting}:{key}", value!));
        var error = Assert.Throws<InvalidOperationException>(() => StorageClients.FromConfiguration(configuration));
        Assert.Contains(Setting, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_section_without_a_queue_service_names_the_setting_when_the_queue_is_asked_for()
    {
        var clients = StorageClients.FromConfiguration(Configuration(($"{Setting}:tableServiceUri", "https://relstore.table.core.windows.net")));
        Assert.NotNull(clients.GetTableServiceClient());
        var error = Assert.Throws<InvalidOperationException>(() => clients.GetQueueServiceClient());
        Assert.Contains($"{Setting}:queueServiceUri", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("justSECRETtext")]
    [InlineData("AccountName=a;AccountKey=SECRETnotbase64!!")]
    [InlineData("AccountName=a;AccountKey=c2VjcmV0LWtleS12YWx1ZQ==;SECRET")]
    [InlineData("AccountName=a;DefaultEndpointsProtocol=ftp;AccountKey=c2VjcmV0LWtleS12YWx1ZQ==")]
    [InlineData("UseDevelopmentStorage=maybe")]
    public void A_malformed_connection_string_names_the_setting_and_echoes_nothing_of_it(string connectionString)
    {
        var clients = StorageClients.FromConfiguration(Configuration((Setting, connectionString)));
        var error = Assert.Throws<InvalidOperationException>(() => clients.GetTableServiceClient());
        Assert.Contains(Setting, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0LWtleS12YWx1ZQ==", error.Message, StringComparison.Ordinal);
        Assert.Null(error.InnerException);
    }
}

[Collection(AzuriteCollection.Name)]
public class StorageClientsAzuriteTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData(StorageClientProfile.Apply)]
    [InlineData(StorageClientProfile.Acknowledgement)]
    public async Task Both_profiles_speak_a_service_version_azurite_accepts(StorageClientProfile profile)
    {
        var queue = azurite.Clients.GetQueueServiceClient(profile).GetQueueClient("q" + Guid.NewGuid().ToString("N")[..20]);
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync("aGVsbG8=");
        Assert.Equal(1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);

        var table = azurite.Clients.GetTableServiceClient(profile).GetTableClient("t" + Guid.NewGuid().ToString("N")[..16]);
        await table.CreateIfNotExistsAsync();
        await table.AddEntityAsync(new Azure.Data.Tables.TableEntity("p", "r"));
        Assert.Equal("r", (await table.GetEntityAsync<Azure.Data.Tables.TableEntity>("p", "r")).Value.RowKey);
    }

    [Fact]
    public async Task The_sdks_default_queue_version_is_the_one_azurite_refuses()
    {
        // Guards the pin: when a newer Azurite or SDK makes it unnecessary, this test says so.
        var unpinned = new Azure.Storage.Queues.QueueServiceClient(azurite.ConnectionString).GetQueueClient("q" + Guid.NewGuid().ToString("N")[..20]);
        var error = await Assert.ThrowsAsync<Azure.RequestFailedException>(() => unpinned.CreateIfNotExistsAsync());
        Assert.Equal(400, error.Status);
    }
}
