/** The camel command: Camel JBang's command line, whose entry point has no main method of its own. */
public class Camel {
    public static void main(String[] args) {
        org.apache.camel.dsl.jbang.core.commands.CamelJBangMain.run(args);
    }
}
