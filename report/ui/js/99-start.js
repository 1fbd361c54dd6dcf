// Draw the page once every file has registered its views.
start();
