package dev.metamorphosis;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** application.properties carries every setting with its default, each under one comment line naming its variable. */
class ApplicationPropertiesTest {

    @Test
    void should_list_every_setting_with_its_default_and_a_comment_naming_the_variable() throws IOException {
        Path file = Path.of("application.properties");
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            properties.load(in);
        }
        List<String> lines = Files.readAllLines(file);
        for (Settings.Setting s : Settings.ALL) {
            if (s.env().equals("CONFIG_DIR")) {
                continue; // says where application.properties is, so it cannot be in it
            }
            assertThat(properties.getProperty(s.key())).as(s.key())
                    .isEqualTo(s.required() ? "" : s.defaultValue());
            int at = lines.indexOf(s.key() + " =" + (properties.getProperty(s.key()).isEmpty() ? ""
                    : " " + properties.getProperty(s.key())));
            assertThat(at).as("line of " + s.key()).isPositive();
            assertThat(lines.get(at - 1)).as("comment above " + s.key()).startsWith("# [" + s.env() + "] ");
        }
    }
}
